"""GET /report/coverage over the coverage table the monitor built for the demo observatory."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import select

from api.factories import monitor_statements
from ooi_status.api import create_app, current_databases
from ooi_status.model.monitor import Coverage
from ooi_status.monitor.build_coverage import build_coverage

CATEGORIES = ("present", "sparse1", "sparse2", "sparse3", "missing", "not_expected")


@pytest.fixture
def client(api_settings, metadata_db, monitor_db, now: datetime):  # type: ignore[no-untyped-def]
    assert build_coverage(api_settings, io.StringIO()) == 0
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
    yield app.test_client()
    with app.app_context():
        current_databases().dispose()


def _get(client, query: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/report/coverage?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _table(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(Coverage.__table__)).all()


def test_default_is_the_last_twelve_months_by_instrument(client, monitor_db) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "")
    assert (body["group"], body["by"]) == ("instrument", "month")
    assert (body["start_time"], body["stop_time"]) == ("2025-12-01 00:00:00", "2026-11-23 12:00:00")
    months = sorted({row["month"] for row in body["rows"]})
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    # An instrument's month adds up its streams' rows.
    row = body["rows"][0]
    streams = [
        r
        for r in _table(monitor_db.engine)
        if (r.refdes, r.kind, r.period) == (row["refdes"], "month", row["month"])
    ]
    for category in CATEGORIES:
        assert row[category] == pytest.approx(sum(getattr(r, category) for r in streams), abs=0.01)
    expected = sum(row[c] for c in CATEGORIES if c != "not_expected")
    assert row["present_percent"] == pytest.approx(100 * row["present"] / expected, abs=0.01)


def test_streams_by_deployment_from_the_beginning(client, monitor_db) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "group=Stream&by=DEPLOYMENT")
    assert body["start_time"] is None
    table = [r for r in _table(monitor_db.engine) if r.kind == "deployment"]
    assert len(body["rows"]) == len(table)
    first = body["rows"][0]
    assert set(first) >= {"refdes", "method", "stream", "deployment", "start", "stop", "present_percent"}
    assert isinstance(first["deployment"], int)


def test_sites_by_month_within_a_window(client) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "group=site&start_time=2026-03-15&stop_time=2026-05-01")
    assert {row["month"] for row in body["rows"]} == {"2026-03", "2026-04"}
    instruments = _get(client, "start_time=2026-03-15&stop_time=2026-05-01")["rows"]
    for site in body["rows"]:
        mine = [
            r
            for r in instruments
            if r["refdes"].startswith(site["site"] + "-") and r["month"] == site["month"]
        ]
        assert site["instruments"] == len(mine)
        assert site["present"] == pytest.approx(sum(r["present"] for r in mine), abs=0.01)


def test_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/report/coverage?format=csv&group=site")
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert 'filename="coverage-site-month.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["site", "instruments", "month", "start", "stop", *CATEGORIES, "present_percent"]
    assert len(rows) == len(_get(client, "group=site")["rows"]) + 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=month&by=deployment", "by: given 2 times"),
        ("group=node", "group: 'node' is not one of stream, instrument, site"),
        ("by=year", "by: 'year' is not one of month, deployment"),
        ("start_time=2026-12-01", "start_time/stop_time: the window is empty"),
        ("stop_time=soon", "stop_time: 'soon' is not an ISO 8601 date"),
        ("format=csv&format=json", "format: given 2 times"),
    ],
)
def test_bad_queries(client, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/report/coverage?{query}")
    assert response.status_code == 400 and response.get_json()["message"].startswith(message)


# --- kept answers: by data revision and the periods the window reaches --------------------------


def _statements(client):  # type: ignore[no-untyped-def]
    return monitor_statements(client.application)


def test_the_answer_is_what_the_report_computes_as_jsonify_wrote_it(client, monitor_db) -> None:  # type: ignore[no-untyped-def]
    for query in ("", "group=stream&by=deployment", "group=site&start_time=2026-03-15&stop_time=2026-05-01"):
        response = client.get(f"/report/coverage?{query}")
        body = response.get_json()
        rows = _computed(monitor_db, body)
        assert body["rows"] == rows and rows
        name = "site" if body["group"] == "site" else "refdes"
        order = [(r[name], r.get("method", ""), r.get("stream", ""), r[body["by"]]) for r in rows]
        assert order == sorted(order)  # Python's order (code points), whatever the database's collation
        assert list(body) == ["group", "by", "start_time", "stop_time", "rows"]
        assert response.mimetype == "application/json" and response.data.endswith(b"]}\n")
        assert b", " not in response.data[:200]  # compact, as jsonify


def test_a_repeated_request_reads_the_revision_and_one_index_probe_only(client) -> None:  # type: ignore[no-untyped-def]
    statements = _statements(client)
    for query in ("", "format=csv&group=stream", "by=deployment&group=site"):
        first = client.get(f"/report/coverage?{query}")
        statements.clear()
        again = client.get(f"/report/coverage?{query}")
        assert again.data == first.data
        assert len(statements) == 2, statements
        assert "data_revision" in statements[0] and "max(coverage.period_start)" in statements[1]


def test_a_later_stop_reaching_no_new_period_answers_the_kept_rows_and_one_that_does_does_not(client) -> None:  # type: ignore[no-untyped-def]
    statements = _statements(client)
    march = _get(client, "start_time=2026-02-10&stop_time=2026-03-15")
    statements.clear()
    later = _get(client, "start_time=2026-02-10&stop_time=2026-03-31T23:59:59")
    assert len(statements) == 2
    assert later["rows"] == march["rows"] and later["stop_time"] == "2026-03-31 23:59:59"
    april = _get(client, "start_time=2026-02-10&stop_time=2026-04-01T00:00:01")
    assert {r["month"] for r in april["rows"]} == {"2026-02", "2026-03", "2026-04"}
    assert {r["month"] for r in march["rows"]} == {"2026-02", "2026-03"}


def test_coverage_written_by_the_upkeep_is_answered_at_once(  # type: ignore[no-untyped-def]
    client, api_settings, metadata_db, monitor_db, now
) -> None:
    """The upkeep moves the data revision with its commit: no kept answer outlives it."""
    from sqlalchemy import update

    from ooi_status.db import Databases
    from ooi_status.reports.coverage_upkeep import CoverageSources, run_upkeep
    from ooi_status.sources import deployment_source, stream_source

    before = _get(client, "group=stream")
    c = Coverage.__table__.c
    with monitor_db.engine.begin() as conn:  # a write that is not the upkeep's: the revision stays
        conn.execute(update(Coverage.__table__).where(c.kind == "month").values(present=c.present + 1))
    assert _get(client, "group=stream") == before
    databases = Databases(api_settings)
    streams = stream_source(api_settings, databases)
    try:
        sources = CoverageSources(streams, deployment_source(databases))
        report = run_upkeep(databases.monitor_session, sources, now, api_settings, float("inf"), True)
    finally:
        streams.close()
        databases.dispose()
    assert report.streams > 0
    after = _get(client, "group=stream")
    assert after != before and after["rows"] == _computed(monitor_db, after)
    statements = _statements(client)
    assert _get(client, "group=stream") == after and len(statements) == 2


def _computed(monitor_db, body: dict) -> list:  # type: ignore[no-untyped-def]
    """The rows coverage_report computes now for an answer's query."""
    from sqlalchemy.orm import Session

    from ooi_status.reports.coverage_report import coverage_report
    from ooi_status.times import parse_iso_timestamp

    start = None if body["start_time"] is None else parse_iso_timestamp(body["start_time"])
    with Session(monitor_db.engine) as session:
        return coverage_report(
            session, body["group"], body["by"], start, parse_iso_timestamp(body["stop_time"])
        )


def test_after_writes_each_answer_is_a_fresh_process_s_byte_for_byte(  # type: ignore[no-untyped-def]
    client, api_settings, monitor_db, now
) -> None:
    """The rows a process keeps between revisions (PostgreSQL) answer what a process that never
    answered before computes: JSON and CSV, every group and ``by``."""
    from sqlalchemy import delete, func, insert, update
    from sqlalchemy.orm import Session

    from ooi_status import revision

    queries = [
        f"group={group}&by={by}{fmt}{window}"
        for group in ("stream", "instrument", "site")
        for by in ("month", "deployment")
        for fmt in ("", "&format=csv")
        for window in ("", "&start_time=2026-03-15&stop_time=2026-06-01")
    ]
    c = Coverage.__table__.c
    with monitor_db.engine.connect() as conn:
        first, last = conn.execute(select(func.min(c.id), func.max(c.id)).where(c.kind == "month")).one()
        row = dict(conn.execute(select(Coverage.__table__).where(c.id == last)).mappings().one())
        del row["id"]
    writes = [
        update(Coverage.__table__).where(c.id.in_([first, last])).values(missing=c.missing + 0.0625),
        delete(Coverage.__table__).where(c.id == first),
        insert(Coverage.__table__).values({**row, "refdes": "AA00-NEW-01", "present": 1 / 3}),
        update(Coverage.__table__).where(c.kind == "deployment", c.period == "1").values(sparse2=2.675),
    ]
    for query in queries:
        client.get(f"/report/coverage?{query}")
    for write in [None, *writes]:
        with Session(monitor_db.engine) as session, session.begin():
            if write is not None:
                session.execute(write)
            revision.bump(session)
        fresh = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
        try:
            with fresh.test_client() as other:
                for query in queries:
                    answer = client.get(f"/report/coverage?{query}")
                    assert answer.status_code == 200
                    assert answer.data == other.get(f"/report/coverage?{query}").data, (write, query)
                    assert _rows_text(answer) == _whole_text(client, monitor_db, query), (write, query)
        finally:
            with fresh.app_context():
                current_databases().dispose()


def _rows_text(answer) -> bytes:  # type: ignore[no-untyped-def]
    """The rows of an answer as written: a CSV answer whole, a JSON answer's "rows" value."""
    if answer.mimetype == "text/csv":
        return answer.data
    return answer.data[answer.data.index(b',"rows":') + len(b',"rows":') : -len(b"}\n")]


def _whole_text(client, monitor_db, query: str) -> bytes:  # type: ignore[no-untyped-def]
    """The rows coverage_report computes whole for ``query``, encoded as the API encodes rows."""
    from ooi_status.api.encoder import json_bytes
    from ooi_status.api.reports import csv_text

    body = client.get(f"/report/coverage?{query.replace('&format=csv', '')}").get_json()
    rows = _computed(monitor_db, body)
    with client.application.app_context():
        if "format=csv" not in query:
            return json_bytes(rows)
        names = {
            "stream": ["refdes", "method", "stream"],
            "instrument": ["refdes"],
            "site": ["site", "instruments"],
        }
        header = (*names[body["group"]], body["by"], "start", "stop", *CATEGORIES, "present_percent")
        return csv_text(header, rows).encode()
