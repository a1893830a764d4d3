"""GET /report/uptime: windows, groups, formats and the query rules."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import datetime, timedelta

import orjson
import pytest
from sqlalchemy.orm import Session

from api.factories import deployed, expected, history
from ooi_status import revision
from ooi_status.api import create_app, current_databases
from ooi_status.model.monitor import DeployedStream
from ooi_status.reports.uptime import fill_cumulative, uptime

CTD = "CE02SHBP-LJ01D-06-CTDBPN106"
ADCP = "CE02SHBP-LJ01D-05-ADCPTB104"


@pytest.fixture
def client(api_settings, monitor_db, now: datetime):  # type: ignore[no-untyped-def]
    """Two instruments of one node: the CTD failed for the last 12 hours, the ADCP operational."""
    with Session(monitor_db.engine) as session, session.begin():
        sample = expected(session, "ctdbp_no_sample")
        ctd = deployed(session, CTD, sample, "failed")
        history(session, ctd, [("notTracked", "operational", now - timedelta(days=40)),
                               ("operational", "failed", now - timedelta(hours=12))])  # fmt: skip
        adcp = deployed(session, ADCP, expected(session, "adcp_velocity_earth"), "operational")
        history(session, adcp, [("notTracked", "operational", now - timedelta(days=40))])
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
    yield app.test_client()
    with app.app_context():
        current_databases().dispose()


def _rows(client, query: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/report/uptime?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_default_is_seven_days_by_instrument(client) -> None:  # type: ignore[no-untyped-def]
    body = _rows(client, "")
    assert body["group"] == "instrument"
    assert (body["start_time"], body["stop_time"]) == ("2026-11-16 12:00:00", "2026-11-23 12:00:00")
    ctd = next(row for row in body["rows"] if row["refdes"] == CTD)
    assert ctd["failed"] == 12 * 3600 and ctd["operational"] == 7 * 86400 - 12 * 3600
    assert ctd["uptime_percent"] == round(100 * (7 * 24 - 12) / (7 * 24), 2)


@pytest.mark.parametrize(("window", "percent"), [("1d", 50.0), ("7D", 92.86), ("30d", 98.33)])
def test_windows(client, window: str, percent: float) -> None:  # type: ignore[no-untyped-def]
    (ctd,) = [row for row in _rows(client, f"window={window}")["rows"] if row["refdes"] == CTD]
    assert ctd["uptime_percent"] == percent


def test_start_and_stop_time(client) -> None:  # type: ignore[no-untyped-def]
    body = _rows(client, "start_time=2026-11-23T06:00:00Z&stop_time=2026-11-24&group=STREAM")
    assert body["stop_time"] == "2026-11-23 12:00:00"  # clamped to now
    (ctd,) = [row for row in body["rows"] if row["refdes"] == CTD]
    assert (ctd["method"], ctd["stream"], ctd["operational"], ctd["failed"]) == (
        "streamed", "ctdbp_no_sample", 0.0, 6 * 3600.0,
    )  # fmt: skip


def test_sites_and_nodes(client) -> None:  # type: ignore[no-untyped-def]
    (site,) = _rows(client, "window=1d&group=site")["rows"]
    assert (site["site"], site["instruments"], site["uptime_percent"]) == ("CE02SHBP", 2, 75.0)
    (node,) = _rows(client, "window=1d&group=node")["rows"]
    assert node["node"] == "CE02SHBP-LJ01D"


def test_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/report/uptime?window=1d&format=CSV")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert 'filename="uptime-instrument.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "refdes",
        "operational",
        "degraded",
        "failed",
        "notTracked",
        "silenced",
        "uptime_percent",
    ]
    assert rows[1:] == [
        [ADCP, "86400.0", "0.0", "0.0", "0.0", "0.0", "100.0"],
        [CTD, "43200.0", "0.0", "43200.0", "0.0", "0.0", "50.0"],
    ]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("window=1d&window=7d", "window: given 2 times"),
        ("group=stream&group=site", "group: given 2 times"),
        ("window=2d", "window: '2d' is not one of 1d, 7d, 30d"),
        ("group=fleet", "group: 'fleet' is not one of stream, instrument, node, site"),
        ("format=xml", "format: 'xml' is not one of json, csv"),
        ("window=1d&start_time=2026-11-01", "window: give either window or start_time/stop_time"),
        ("stop_time=2026-11-01", "start_time: required with stop_time"),
        ("start_time=2026-11-24", "start_time/stop_time: the window is empty"),
        ("start_time=yesterday", "start_time: 'yesterday' is not an ISO 8601 date"),
    ],
)
def test_bad_queries(client, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/report/uptime?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert response.get_json()["message"].startswith(message)


# --- kept answers: a window ending now ends at the start of the minute ---------------------------


@pytest.fixture
def clocked(api_settings, monitor_db, now: datetime):  # type: ignore[no-untyped-def]
    """One stream operational for 40 days, and an app whose clock the test moves."""
    with Session(monitor_db.engine) as session, session.begin():
        ctd = deployed(session, CTD, expected(session, "ctdbp_no_sample"), "operational")
        history(session, ctd, [("notTracked", "operational", now - timedelta(days=40))])
        stream_id = ctd.id
    clock = {"now": now + timedelta(seconds=37, microseconds=5)}
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: clock["now"])
    yield app.test_client(), clock, stream_id
    with app.app_context():
        current_databases().dispose()


def _failed_since(monitor_db, stream_id: int, at: datetime, bump: bool) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session, session.begin():
        stream = session.get(DeployedStream, stream_id)
        history(session, stream, [("operational", "failed", at)])
        if bump:
            revision.bump(session)


def test_a_window_ending_now_ends_at_the_start_of_the_minute(clocked, now: datetime) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = clocked
    body = _rows(client, "window=1d&group=stream")
    assert (body["start_time"], body["stop_time"]) == ("2026-11-22 12:00:00", "2026-11-23 12:00:00")
    assert body["rows"][0]["operational"] == 86400.0
    body = _rows(client, "start_time=2026-11-23T11:00:00Z&group=stream")  # stop_time: now, to the minute
    assert body["stop_time"] == "2026-11-23 12:00:00" and body["rows"][0]["operational"] == 3600.0


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_answer_is_kept_until_the_revision_or_the_minute_moves(
    clocked, monitor_db, now: datetime, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    client, clock, stream_id = clocked
    query = f"/report/uptime?window=1d&group=stream&format={fmt}"
    first = client.get(query).get_data()
    # A row written without moving the revision (no write of the product does that) shows that
    # the kept answer is served: the data are not read again.
    _failed_since(monitor_db, stream_id, now - timedelta(hours=6), bump=False)
    assert client.get(query).get_data() == first
    # A commit that moves the revision (as every write does) is in the next answer.
    _failed_since(monitor_db, stream_id, now - timedelta(hours=3), bump=True)
    second = client.get(query).get_data()
    assert second != first
    if fmt == "json":
        (row,) = client.get(query).get_json()["rows"]
        assert (row["operational"], row["failed"]) == (18 * 3600.0, 6 * 3600.0)
    # The next minute: a window ending a minute later.
    clock["now"] += timedelta(minutes=1)
    third = client.get(query)
    assert third.get_data() != second
    if fmt == "json":
        assert third.get_json()["stop_time"] == "2026-11-23 12:01:00"
        assert third.get_json()["rows"][0]["failed"] == 6 * 3600.0 + 60


def test_by_stream_a_round_committed_before_a_request_is_in_its_answer(
    clocked, monitor_db, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    """By stream, the rows the process keeps between revisions (PostgreSQL) are brought to the
    request's snapshot: after each round (rows filled in its transaction) the answer is the report
    computed whole, the window a minute later each time."""
    client, clock, stream_id = clocked
    query = "window=1d&group=stream"
    answers = [_rows(client, query)]
    for old, new, hours in (("operational", "failed", 6), ("failed", "operational", 3)):
        with Session(monitor_db.engine) as session, session.begin():
            history(
                session, session.get(DeployedStream, stream_id), [(old, new, now - timedelta(hours=hours))]
            )
            fill_cumulative(session)
            revision.bump(session)
        clock["now"] += timedelta(minutes=1)
        answers.append(_rows(client, query))
        stop = clock["now"].replace(second=0, microsecond=0)
        with Session(monitor_db.engine) as session:
            whole = uptime(session, stop - timedelta(days=1), stop, "stream")
        assert answers[-1]["rows"] == orjson.loads(orjson.dumps(whole))
    assert [body["rows"][0]["failed"] for body in answers] == [0.0, 6 * 3600.0 + 60, 3 * 3600.0]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_gzip_for_clients_that_accept_it_decompresses_to_the_plain_answer(
    api_settings, monitor_db, now: datetime, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    """A report large enough to compress (API_GZIP_MIN_BYTES) comes gzip-compressed to a client
    sending Accept-Encoding: gzip, and decompresses to exactly the plain answer; a small one is
    sent as it is."""
    with Session(monitor_db.engine) as session, session.begin():
        sample = expected(session, "ctdbp_no_sample")
        for n in range(60):
            stream = deployed(session, f"CE02SHBP-LJ01D-06-CTDBPN{n:03d}", sample, "operational")
            history(session, stream, [("notTracked", "operational", now - timedelta(hours=n + 1))])
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
    client = app.test_client()
    try:
        query = f"/report/uptime?window=7d&group=stream&format={fmt}"
        plain = client.get(query, headers={"Accept-Encoding": "identity"})
        packed = client.get(query, headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == packed.status_code == 200
        assert len(plain.get_data()) >= api_settings.API_GZIP_MIN_BYTES
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.get_data()) == plain.get_data()
        assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
        assert packed.content_type == plain.content_type
        small = client.get("/report/uptime?window=1d&group=site", headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in small.headers and small.get_json()["rows"]
    finally:
        with app.app_context():
            current_databases().dispose()
