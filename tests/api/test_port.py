"""The diagnosis in /instrument, /instrument/<refdes>/port, and the rejection counter of /metrics."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.factories import ADCP, CTD, HPIES, deployed, expected
from ooi_status import port_store
from ooi_status.port_counts import PortCountRecord
from ooi_status.times import format_timestamp, utcnow

RECEIVING = "port agent receiving {} B/s: data arrives but no particles are stored (ingest or parser)"
SILENT = "no bytes from the port agent since {} (instrument or communications)"


def counts(engine, *records: PortCountRecord) -> None:
    with Session(engine) as session, session.begin():
        port_store.store_counts(session, list(records))


def count(refdes: str, end, bytes_in: int, elapsed: float = 60.0) -> PortCountRecord:
    return PortCountRecord(refdes, end.replace(microsecond=0), elapsed, bytes_in, 0, 0, 1)


@pytest.fixture
def clock():
    """The API reads the real clock: counts are written relative to it."""
    return utcnow().replace(microsecond=0)


@pytest.fixture
def port_fleet(fleet, monitor_db, clock):
    # CTD (degraded): bytes arrive, 24,720 bytes in 60 s → 412 B/s.
    # HPIES (failed): zeros for the last 20 minutes, bytes before that.
    # ADCP (operational): bytes arrive, but an operational instrument gets no diagnosis.
    silent_since = clock - timedelta(minutes=20)
    counts(
        monitor_db.engine,
        count(CTD, clock - timedelta(seconds=30), 24_720),
        count(HPIES, silent_since - timedelta(minutes=1), 5_000),
        count(HPIES, silent_since, 5_000),
        *[count(HPIES, clock - timedelta(minutes=m), 0) for m in range(0, 19)],
        count(ADCP, clock - timedelta(seconds=10), 1000),
    )
    return {**fleet, "silent_since": silent_since}


def test_instruments_carry_their_diagnosis(client, port_fleet):
    body = client.get("/instrument").get_json()
    assert body[CTD]["diagnosis"] == RECEIVING.format(412)
    assert body[HPIES]["diagnosis"] == SILENT.format(format_timestamp(port_fleet["silent_since"]))
    assert body[ADCP]["diagnosis"] is None
    one = client.get(f"/instrument/{port_fleet['hpies']}").get_json()
    assert one["diagnosis"] == body[HPIES]["diagnosis"]


def test_no_port_statistics_no_diagnosis(client, fleet):
    body = client.get("/instrument").get_json()
    assert {item["diagnosis"] for item in body.values()} == {None}


def test_the_diagnosis_costs_the_same_queries_for_any_number_of_instruments(
    client, port_fleet, monitor_db, clock
):
    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(monitor_db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/instrument").status_code == 200
        finally:
            event.remove(monitor_db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    with Session(monitor_db.engine) as session, session.begin():
        echo = expected(session, "echo_sounding_more", warn_interval=900, fail_interval=1800)
        for n in range(30):
            refdes = f"CE0{n % 9}ISSM-MFD{n:02d}-04-ADCPTM000"
            deployed(session, refdes, echo, "failed")
            port_store.store_counts(session, [count(refdes, clock - timedelta(seconds=5), 60 * n)])
    assert statements() == before
    body = client.get("/instrument?status=failed").get_json()
    assert body["CE01ISSM-MFD10-04-ADCPTM000"]["diagnosis"] == RECEIVING.format(10)


def test_port_counts_as_json_and_csv(client, port_fleet, clock):
    start = format_timestamp(clock - timedelta(minutes=25)).replace(" ", "T")
    body = client.get(f"/instrument/{HPIES}/port?start_time={start}").get_json()
    assert body["reference_designator"] == HPIES
    rows = body["counts"]
    assert len(rows) == 21 and rows == sorted(rows, key=lambda r: r["time"])
    assert rows[0] == {"time": format_timestamp(port_fleet["silent_since"] - timedelta(minutes=1)),
                       "bytes": 5000, "seconds": 60.0, "bytes_per_second": 83.33}  # fmt: skip
    by_id = client.get(f"/instrument/{port_fleet['hpies']}/port?start_time={start}&format=CSV")
    assert by_id.status_code == 200 and by_id.mimetype == "text/csv"
    lines = by_id.get_data(as_text=True).splitlines()
    assert lines[0] == "time,bytes,seconds,bytes_per_second"
    assert list(csv.reader(io.StringIO(lines[1]))) == [[rows[0]["time"], "5000", "60.0", "83.33"]]
    assert len(lines) == 22


def test_a_port_agent_of_an_unmonitored_instrument_has_a_series(client, monitor_db, clock):
    counts(monitor_db.engine, count("GP05MOAS-GL523-04-CTDGVM000", clock - timedelta(hours=1), 7))
    rows = client.get("/instrument/GP05MOAS-GL523-04-CTDGVM000/port").get_json()["counts"]
    assert [r["bytes"] for r in rows] == [7]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("?format=xml", 400, "format"),
        ("?start_time=yesterday", 400, "start_time"),
        ("?start_time=2026-12-02&stop_time=2026-12-01", 400, "empty"),
        ("?format=json&format=csv", 400, "given 2 times"),
    ],
)
def test_bad_port_queries(client, port_fleet, query, status, words):
    response = client.get(f"/instrument/{CTD}/port{query}")
    assert response.status_code == status and words in response.get_json()["message"]


def test_unknown_instrument_port_is_404(client, port_fleet):
    response = client.get("/instrument/CE09OSSM-XXX01-00-NOPE00000/port")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_metrics_count_rejected_messages_by_reason(client, monitor_db, clock):
    with Session(monitor_db.engine) as session, session.begin():
        port_store.record_rejections(session, {"not_json": 3, "negative_value": 1}, clock)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'ooi_status_port_stats_rejected_total{reason="not_json"} 3.0' in text
    assert 'ooi_status_port_stats_rejected_total{reason="negative_value"} 1.0' in text
    assert 'ooi_status_port_stats_rejected_total{reason="wrong_type"} 0.0' in text


def test_a_cached_instrument_list_takes_new_port_counts_at_the_next_check_interval(
    api_settings, fleet, monitor_db
):
    from ooi_status.api import create_app, current_databases

    moment = [utcnow().replace(microsecond=0)]
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: moment[0])
    client = app.test_client()
    assert client.get("/instrument").get_json()[HPIES]["diagnosis"] is None
    counts(monitor_db.engine, count(HPIES, moment[0] - timedelta(seconds=30), 24_720))
    # Port counts do not move the data revision: within the check interval the cached answer stands.
    assert client.get("/instrument").get_json()[HPIES]["diagnosis"] is None
    moment[0] += timedelta(seconds=api_settings.CHECK_INTERVAL)  # the next interval
    counts(monitor_db.engine, count(HPIES, moment[0] - timedelta(seconds=30), 24_720))
    assert client.get("/instrument").get_json()[HPIES]["diagnosis"] == RECEIVING.format(412)
    with app.app_context():
        current_databases().dispose()
