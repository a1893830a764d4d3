"""``ooi_status_monitor --expected=FILE.csv``: loads whole files, refuses bad ones whole."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.model.monitor import ExpectedStream
from ooi_status.monitor import cli

HEADER = "name,method,expected_rate,warn_interval,fail_interval\n"


def rows(engine) -> list[tuple[str, str, float, int, int]]:
    with Session(engine) as session:
        found = session.scalars(select(ExpectedStream).order_by(ExpectedStream.name, ExpectedStream.method))
        return [(e.name, e.method, e.expected_rate, e.warn_interval, e.fail_interval) for e in found]


def test_the_ooi_table_loads_and_a_second_load_changes_nothing(run, monitor_db):
    status, out, _ = run(f"--expected={demo.EXPECTED_CSV}")
    assert status == 0
    loaded = rows(monitor_db.engine)
    lines = [line for line in demo.EXPECTED_CSV.read_text().splitlines()[1:] if line.strip()]
    assert len(loaded) == len(lines) > 50
    assert f"{len(lines)} created" in out
    status, out, _ = run("--expected", str(demo.EXPECTED_CSV))
    assert status == 0 and "0 created, 0 updated" in out
    assert rows(monitor_db.engine) == loaded


def test_upsert_by_name_and_method(run, monitor_db, tmp_path: Path):
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER + "ctdbp_no_sample,streamed,1,600,1800\nctdbp_no_sample,telemetered,0,3600,7200\n"
    )
    assert run(f"--expected={first}")[0] == 0
    second = tmp_path / "second.csv"
    second.write_text(HEADER + "ctdbp_no_sample,streamed,0.5,300,900\n")
    status, out, _ = run(f"--expected={second}")
    assert status == 0 and "0 created, 1 updated" in out
    assert rows(monitor_db.engine) == [
        ("ctdbp_no_sample", "streamed", 0.5, 300, 900),
        ("ctdbp_no_sample", "telemetered", 0.0, 3600, 7200),
    ]


BAD_FILES = [
    # (content, words the message must hold)
    (
        b"name,method,expected_rate,warn_interval\nx,streamed,0,60\n",
        ["line 1", "missing column fail_interval"],
    ),
    (
        HEADER.replace("\n", ",colour\n").encode() + b"x,streamed,0,60,120,red\n",
        ["line 1", "unknown column colour"],
    ),
    (
        (HEADER + "x,streamed,0,60,120\ny,streamed,0,ten,120\n").encode(),
        ["line 3", "warn_interval", "not a number"],
    ),
    ((HEADER + "x,streamed,0,60,-120\n").encode(), ["line 2", "fail_interval", "negative"]),
    ((HEADER + "x,streamed,-1,60,120\n").encode(), ["line 2", "expected_rate", "negative"]),
    ((HEADER + "x,streamed,0,60.5,120\n").encode(), ["line 2", "warn_interval", "whole number"]),
    ((HEADER + "x,streamed,0,60,120\nx,streamed,0,60,120\n").encode(), ["line 3", "duplicate", "line 2"]),
    (b"", ["line 1", "empty file"]),
    ((HEADER + "caf\xe9,streamed,0,60,120\n").encode("latin-1"), ["line 2", "not UTF-8"]),
    (b"\x00\x01\x02binary", ["not CSV"]),
    ((HEADER + 'x,"streamed,0,60,120\n').encode(), ["line"]),
    ((HEADER + "x,streamed,0,60\n").encode(), ["line 2", "4 fields"]),
    # Values past what the database columns hold, named before the database sees them.
    ((HEADER + "x,streamed,0,1e19,120\n").encode(), ["line 2", "field warn_interval", "2147483647"]),
    ((HEADER + "x,streamed,0,60,2147483648\n").encode(), ["line 2", "field fail_interval", "2147483647"]),
    ((HEADER + "x,streamed,1e400,60,120\n").encode(), ["line 2", "field expected_rate", "not a finite"]),
    ((HEADER + "x," + "m" * 256 + ",0,60,120\n").encode(), ["line 2", "field method", "256", "255"]),
    # What Python's float() takes but a CSV number is not.
    ((HEADER + "x,streamed,0,1_000,120\n").encode(), ["line 2", "field warn_interval", "not a number"]),
    ((HEADER + "x,streamed,nan,60,120\n").encode(), ["line 2", "field expected_rate", "not a number"]),
    ((HEADER + "x,streamed,0,60,\u0661\u0662\n").encode(), ["line 2", "field fail_interval", "not a number"]),
    ((HEADER + "x,streamed,0,60\u2028,120\n").encode(), ["line 2", "field warn_interval", "not a number"]),
    # Line breaks and separators inside a name, named as what they are.
    (
        (HEADER + 'a,streamed,0,60,120\n"ctd\nsample",streamed,0,60,120\n').encode(),
        ["line 3", "field name", "line break (LF"],
    ),  # fmt: skip
    ((HEADER + "ctd\u2028sample,streamed,0,60,120\n").encode(), ["line 2", "field name", "U+2028"]),
    ((HEADER + "ctd\x85sample,streamed,0,60,120\n").encode(), ["line 2", "field name", "NEL, U+0085"]),
    ((HEADER + "ctd,str\x0beamed,0,60,120\n").encode(), ["line 2", "field method", "vertical tab"]),
    ((HEADER + "ctd\u202esample,streamed,0,60,120\n").encode(), ["line 2", "field name", "U+202E"]),
]


@pytest.mark.parametrize(("content", "words"), BAD_FILES)
def test_a_bad_file_names_file_line_and_field_and_writes_nothing(run, monitor_db, tmp_path, content, words):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "kept,streamed,0,60,120\n")
    assert run(f"--expected={good}")[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    status, out, err = run(f"--expected={bad}")
    assert status == 2
    assert str(bad) in err
    for word in words:
        assert word in err
    assert rows(monitor_db.engine) == [("kept", "streamed", 0.0, 60, 120)]


def test_a_file_that_cannot_be_read(run, tmp_path):
    status, _, err = run(f"--expected={tmp_path / 'missing.csv'}")
    assert status != 0 and "missing.csv" in err and "cannot be read" in err


def test_a_fresh_embedded_database_gets_its_schema_first(tmp_path, monkeypatch, capsys):
    """AUTO_MIGRATE = "sqlite" (the default): the embedded database is migrated before loading."""
    monkeypatch.setenv("OOISTATUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OOISTATUS_MONITOR_URL", raising=False)
    monkeypatch.delenv("OOISTATUS_SETTINGS", raising=False)
    assert cli.main([f"--expected={demo.EXPECTED_CSV}"]) == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.sqlite'}")
    try:
        assert len(rows(engine)) > 50
    finally:
        engine.dispose()


def test_without_auto_migration_a_database_without_the_schema_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OOISTATUS_MONITOR_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    monkeypatch.setenv("OOISTATUS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OOISTATUS_AUTO_MIGRATE", "never")
    monkeypatch.delenv("OOISTATUS_SETTINGS", raising=False)
    assert cli.main([f"--expected={demo.EXPECTED_CSV}"]) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and "ooi_status_db upgrade head" in err


def test_new_api_key_prints_the_key_and_its_hash(capsys):
    from ooi_status.keys import hash_api_key

    assert cli.main(["--new-api-key", "ops"]) == 0
    out = capsys.readouterr().out
    key = out.split("keep it secret): ")[1].split()[0]
    assert f"API_KEYS = {{'ops': '{hash_api_key(key)}'}}" in out


def test_bad_settings_exit_with_status_2(tmp_path, monkeypatch, capsys):
    settings_file = tmp_path / "local.py"
    settings_file.write_text("CHECK_INTERVL = 30\n")
    monkeypatch.setenv("OOISTATUS_SETTINGS", str(settings_file))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--once"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "CHECK_INTERVL" in err and str(settings_file) in err


def test_values_at_the_columns_limits_load(run, monitor_db, tmp_path):
    edge = tmp_path / "edge.csv"
    name = "n" * 255
    edge.write_text(HEADER + f"{name},streamed,1e300,2147483647,2147483647\nx,streamed,0.5,6e1,1.2e2\n")
    status, _, err = run(f"--expected={edge}")
    assert status == 0, err
    assert rows(monitor_db.engine) == [
        (name, "streamed", 1e300, 2147483647, 2147483647),
        ("x", "streamed", 0.5, 60, 120),
    ]


def test_a_huge_file_is_refused_from_its_size_with_bounded_memory(run, monitor_db, tmp_path):
    huge = tmp_path / "huge.csv"
    block = "".join(f"stream_{i:06d},streamed,0,60,120\n" for i in range(10_000)).encode()
    with huge.open("wb") as out:
        out.write(HEADER.encode())
        while out.tell() < 150 * 1024 * 1024:
            out.write(block)
    tracemalloc.start()
    try:
        status, _, err = run(f"--expected={huge}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 2 and str(huge) in err and "bytes" in err
    assert peak < 16 * 1024 * 1024
    assert rows(monitor_db.engine) == []


def test_an_endless_stream_is_refused_after_the_limit_with_bounded_memory(run, monitor_db, tmp_path):
    """A pipe has no size to check first: reading stops at the limit, whatever follows."""
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)
    written = []

    def feed() -> None:
        try:
            with fifo.open("wb") as out:
                out.write(HEADER.encode())
                for chunk in range(150):  # 150 MB if nobody stopped reading
                    out.write(b"".join(b"s%03d_%06d,streamed,0,60,120\n" % (chunk, i) for i in range(40_000)))
                    written.append(chunk)
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    tracemalloc.start()
    try:
        status, _, err = run(f"--expected={fifo}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        feeder.join(timeout=60)
    assert not feeder.is_alive()
    assert status == 2 and "more than the" in err and "bytes" in err
    assert len(written) < 150
    assert peak < 64 * 1024 * 1024
    assert rows(monitor_db.engine) == []


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_lines_may_end_in_lf_crlf_or_a_lone_cr(run, monitor_db, tmp_path, end):
    spreadsheet = tmp_path / "saved.csv"
    spreadsheet.write_bytes(
        end.join([HEADER.strip(), "a,streamed,0,60,120", "b,streamed,0.5,6,12", ""]).encode()
    )
    status, _, err = run(f"--expected={spreadsheet}")
    assert status == 0, err
    assert rows(monitor_db.engine) == [("a", "streamed", 0.0, 60, 120), ("b", "streamed", 0.5, 6, 12)]
