"""Kept coverage report rows (PostgreSQL): after any write, the body is what the report computes
whole in the same snapshot, and only the rows whose coverage rows changed are computed again."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, delete, event, insert, update
from sqlalchemy.orm import Session

from ooi_status.model.monitor import Coverage
from ooi_status.reports.coverage_kept import KeptReport, KeptReports, kept_body
from ooi_status.reports.coverage_report import coverage_report

C = Coverage.__table__.c
STOP = datetime(2026, 11, 23, 12, tzinfo=UTC)
#: (group, by, start, stop) of the reports kept in these tests.
QUERIES = [
    ("instrument", "month", datetime(2026, 9, 1, tzinfo=UTC), STOP),
    ("stream", "month", None, STOP),
    ("instrument", "deployment", None, STOP),
    ("stream", "deployment", datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
]
STREAMS = [("CE01-A-01", "streamed", "a"), ("CE01-A-01", "telemetered", "b"), ("CE02-B-02", "streamed", "c")]


def _seconds(n: int) -> dict[str, float]:
    """Values whose rounding matters: thirds, a tie at the fourth decimal, large sums."""
    return {
        "present": 2_000_000.0 + n / 3,
        "sparse1": 0.0625 * n,
        "sparse2": 2.675 if n % 2 else 0.0,
        "sparse3": 1e-4 * n,
        "missing": 86_400.0 * (n % 5) + 0.0005,
        "not_expected": 0.0 if n % 3 else 3_600.5,
    }


def _rows() -> list[dict[str, Any]]:
    rows, n = [], itertools.count(1)
    for refdes, method, stream in STREAMS:
        for month in (8, 9, 10, 11):
            start = datetime(2026, month, 1, tzinfo=UTC)
            stop = min(datetime(2026, month + 1, 1, tzinfo=UTC), STOP)
            label = f"2026-{month:02d}"
            rows.append(_row(refdes, method, stream, "month", label, start, start, stop, next(n)))
        for number, (start, stop) in enumerate(
            [(datetime(2026, 8, 3, tzinfo=UTC), datetime(2026, 10, 20, 6, tzinfo=UTC)),
             (datetime(2026, 10, 21, tzinfo=UTC), STOP)], start=1,
        ):  # fmt: skip
            rows.append(_row(refdes, method, stream, "deployment", str(number), start, start, stop, next(n)))
    return rows


def _row(refdes: str, method: str, stream: str, kind: str, period: str, *times_and_n: Any) -> dict[str, Any]:
    period_start, window_start, window_stop, n = times_and_n
    return {
        "refdes": refdes, "method": method, "stream": stream, "kind": kind, "period": period,
        "period_start": period_start, "window_start": window_start,
        "window_stop": window_stop - timedelta(microseconds=n), **_seconds(n),
    }  # fmt: skip


@pytest.fixture
def engine(monitor_db) -> Engine:  # type: ignore[no-untyped-def]
    if monitor_db.backend != "postgresql":
        pytest.skip("row versions (xmin): PostgreSQL only; on SQLite the report is computed whole")
    with monitor_db.engine.begin() as conn:
        conn.execute(insert(Coverage.__table__), _rows())
    return monitor_db.engine


def _encode(encoded: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], list[bytes]]:
    def encode(rows: list[dict[str, Any]]) -> list[bytes]:
        encoded.extend(rows)
        return [orjson.dumps(row) for row in rows]

    return encode


def _join(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


def _whole(engine: Engine, query: tuple[Any, ...]) -> bytes:
    with Session(engine) as session:
        return orjson.dumps(coverage_report(session, *query))


def _kept(engine: Engine, kept: KeptReport, query: tuple[Any, ...]) -> tuple[bytes, list[dict[str, Any]]]:
    encoded: list[dict[str, Any]] = []
    with Session(engine) as session:
        return kept_body(session, kept, query, _encode(encoded), _join), encoded


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in ("refdes", "method", "stream", "month", "deployment") if k in row)


def _where(refdes: str, method: str, kind: str, period: str | None = None) -> list[Any]:
    where = [C.refdes == refdes, C.method == method, C.kind == kind]
    return where if period is None else [*where, C.period == period]


_T = Coverage.__table__
NEW = _row(
    "CE00-Z-09", "streamed", "z", "month", "2026-11", *[datetime(2026, 11, 1, tzinfo=UTC)] * 2, STOP, 40
)
DEPLOYED = _row("CE01-A-01", "streamed", "a", "deployment", "10", STOP, STOP - timedelta(days=1), STOP, 41)
A_SEPTEMBER = _where("CE01-A-01", "streamed", "month", "2026-09")
A_OCTOBER = _where("CE01-A-01", "streamed", "month", "2026-10")
WRITES: list[tuple[str, Any]] = [
    ("nothing", None),
    ("a value in place", update(_T).where(*A_SEPTEMBER).values(present=C.present + 1.5)),
    ("the same value again", update(_T).where(*A_SEPTEMBER).values(present=C.present)),
    ("one stream of two", delete(_T).where(*_where("CE01-A-01", "telemetered", "month", "2026-11"))),
    ("an instrument's month", delete(_T).where(*_where("CE02-B-02", "streamed", "month", "2026-10"))),
    ("a new instrument", insert(_T).values(NEW)),
    ("a stream moved to another instrument", update(_T).where(C.stream == "a").values(refdes="CE02-B-02")),
    (
        "a window out of the report's",
        update(_T).where(C.stream == "c", C.kind == "deployment", C.period == "2")
        .values(window_stop=datetime(2026, 10, 1, tzinfo=UTC)),
    ),
    ("a new deployment", insert(_T).values(DEPLOYED)),
]  # fmt: skip


def test_after_each_write_the_kept_body_is_the_whole_report(engine: Engine) -> None:
    kept = {query: KeptReport() for query in QUERIES}
    for query in QUERIES:
        assert _kept(engine, kept[query], query)[0] == _whole(engine, query)
    for name, write in WRITES:
        if write is not None:
            with engine.begin() as conn:
                conn.execute(write)
        for query in QUERIES:
            body, encoded = _kept(engine, kept[query], query)
            whole = _whole(engine, query)
            assert body == whole, (name, query)
            if write is None:
                assert encoded == [], query
            elif name != "a stream moved to another instrument":
                assert len(encoded) < len(orjson.loads(whole)), (name, query)  # not computed whole


def test_a_month_whose_coverage_rows_are_all_deleted_is_dropped_without_computing_any_row(
    engine: Engine,
) -> None:
    query = ("instrument", "month", None, STOP)
    kept = KeptReport()
    _kept(engine, kept, query)
    with engine.begin() as conn:
        conn.execute(delete(_T).where(*_where("CE02-B-02", "streamed", "month", "2026-10")))
    body, encoded = _kept(engine, kept, query)
    assert encoded == [] and body == _whole(engine, query)
    assert ("CE02-B-02", "2026-10") not in {_key(r) for r in orjson.loads(body)}


def test_an_update_in_place_computes_that_row_again_only(engine: Engine) -> None:
    query = ("instrument", "month", None, STOP)
    kept = KeptReport()
    body, encoded = _kept(engine, kept, query)
    assert len(encoded) == len(orjson.loads(body)) == 8
    with engine.begin() as conn:
        conn.execute(
            update(_T).where(*_where("CE01-A-01", "streamed", "month", "2026-10")).values(missing=0.5)
        )
    body, encoded = _kept(engine, kept, query)
    assert [_key(r) for r in encoded] == [("CE01-A-01", "2026-10")]  # the sum of its two streams
    assert body == _whole(engine, query)
    body, encoded = _kept(engine, kept, query)
    assert encoded == [] and body == _whole(engine, query)


def test_a_write_after_the_versions_were_read_is_not_in_the_answer(engine: Engine) -> None:
    """The versions and the rows recomputed are read in one snapshot: a commit between the two
    statements is in neither (the next request finds it)."""
    query = ("instrument", "month", None, STOP)
    kept = KeptReport()
    before = _kept(engine, kept, query)[0]
    with engine.begin() as conn:
        conn.execute(
            update(_T).where(*_where("CE01-A-01", "streamed", "month", "2026-10")).values(missing=0.5)
        )
    expected = _whole(engine, query)

    def commit_meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "string_agg" in statement and "to_char" in statement:
            with engine.begin() as other:
                # the other stream of the instrument's month being computed again
                other.execute(
                    update(_T)
                    .where(*_where("CE01-A-01", "telemetered", "month", "2026-10"))
                    .values(present=0.0)
                )

    event.listen(engine, "before_cursor_execute", commit_meanwhile)
    try:
        body = _kept(engine, kept, query)[0]
    finally:
        event.remove(engine, "before_cursor_execute", commit_meanwhile)
    assert body == expected != before
    assert _kept(engine, kept, query)[0] == _whole(engine, query) != expected


def test_reports_beyond_the_budget_are_dropped_oldest_first() -> None:
    reports = KeptReports(max_bytes=1000)
    first, second = reports.get("first"), reports.get("second")
    first.size, second.size = 600, 300
    reports.fit()
    assert len(reports) == 2
    reports.get("first")  # used: the second is now the oldest
    first.size = 900
    reports.fit()
    assert len(reports) == 1 and reports.get("first") is first
    first.size = 1001
    reports.fit()
    assert len(reports) == 0
