"""/available conditional requests: the ETag is the version of the answer's inputs, known before
any bin is read; "now" at minute resolution; unchanged → 304; gzip for clients that accept it."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from api.availability.conftest import NOW, REFDES, at
from ooi_status.api import create_app, current_databases
from ooi_status.model.metadata import StreamMetadata, XDeployment, XEvent

URL = f"/available/{REFDES}"


def app_at(settings, scenario_db, clock):  # type: ignore[no-untyped-def]
    return create_app(settings.replace(METADATA_URL=scenario_db.url), TESTING=True, CLOCK=clock)


def test_an_open_deployment_answers_304_within_the_minute_and_200_after_it(settings, scenario_db):
    moment = [NOW + timedelta(seconds=5)]
    app = app_at(settings, scenario_db, lambda: moment[0])
    client = app.test_client()
    try:
        first = client.get(URL)
        etag = first.headers["ETag"]
        moment[0] = NOW + timedelta(seconds=59)  # the same minute: the same answer and ETag
        same = client.get(URL, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.headers["ETag"] == etag
        assert client.get(URL).data == first.data
        moment[0] = NOW + timedelta(seconds=61)  # the open deployment's window has grown
        later = client.get(URL, headers={"If-None-Match": etag})
        assert later.status_code == 200 and later.headers["ETag"] != etag
        assert later.get_json()["availability"][0]["data"][-1][2] == "2016-02-10 00:01:00"
        # A closed window (stop_time in the past) is the same answer in any minute.
        closed = f"{URL}?stop_time=2016-01-20"
        tag = client.get(closed).headers["ETag"]
        moment[0] = NOW + timedelta(hours=5)
        assert client.get(closed, headers={"If-None-Match": tag}).status_code == 304
    finally:
        with app.app_context():
            current_databases().dispose()


def test_a_304_reads_no_bin(client, app, scenario_db):
    etag = client.get(URL).headers["ETag"]
    statements: list[str] = []
    with app.app_context():
        engines = {current_databases().metadata, current_databases().metadata_reads}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    assert statements and not any("partition_metadata" in text for text in statements)


def test_new_data_in_a_stream_changes_the_etag(client, scenario_db):
    etag = client.get(URL).headers["ETag"]
    with scenario_db.engine.begin() as conn:
        conn.execute(
            update(StreamMetadata)
            .where(StreamMetadata.method == "telemetered", StreamMetadata.stream == "ctdbp_no_sample")
            .values(count=StreamMetadata.count + 1, last=at(38, 12))
        )
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_gzip_answers_decompress_to_exactly_the_plain_ones(client):
    for query in ("", "?format=csv", "?format=svg", "?method=streamed"):
        plain = client.get(URL + query, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers
        for _ in range(2):  # computed, then kept
            packed = client.get(URL + query, headers={"Accept-Encoding": "gzip"})
            assert (
                packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
            )
            assert gzip.decompress(packed.data) == plain.data
            assert packed.headers["ETag"] == plain.headers["ETag"]


def summarising_app(settings, scenario_db, rows):  # type: ignore[no-untyped-def]
    """An app with AVAILABILITY_RULES_IN_DATABASE and a bin cache of ``rows`` (0: off)."""
    chosen = {"AVAILABILITY_RULES_IN_DATABASE": True, "AVAILABILITY_BIN_CACHE_ROWS": rows}
    return create_app(
        settings.replace(METADATA_URL=scenario_db.url, **chosen), TESTING=True, CLOCK=lambda: NOW
    )


@contextmanager
def statements_of(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The statements the app runs on the metadata database within; its engine disposed after."""
    statements: list[str] = []
    try:
        with app.app_context():
            engine = current_databases().metadata
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        yield statements
    finally:
        with app.app_context():
            current_databases().dispose()


SUMMARY = "b.points, b.candidates"  # in the statement that summarises the bins


def test_rules_in_the_database_give_the_same_answers(settings, scenario_db, client):
    """AVAILABILITY_RULES_IN_DATABASE with the bin cache off: PostgreSQL summarises the bins (SQLite
    has no such path); the same bytes as reading every bin."""
    app = summarising_app(settings, scenario_db, 0)
    with statements_of(app) as statements:
        other = app.test_client()
        for query in (
            "",
            "?format=csv",
            "?format=svg",
            "?start_time=2016-01-03T05:00:00&stop_time=2016-02-01",
            "?start_time=2016-01-09T12:00:00&stop_time=2016-01-13T06:00:00",
            "?method=telemetered",
            "?method=bad_streamed",
        ):
            assert other.get(URL + query).data == client.get(URL + query).data, query
    assert any(SUMMARY in text for text in statements) == (scenario_db.backend == "postgresql")


@pytest.mark.parametrize("rows", [0, 100_000])
def test_the_bins_are_summarised_only_when_they_are_not_kept(settings, scenario_db, rows):
    """With the bin cache on, a request reads the bins whole (the next one finds them kept); with it
    off, one statement summarises every stream on PostgreSQL."""
    app = summarising_app(settings, scenario_db, rows)
    with statements_of(app) as statements:
        assert app.test_client().get(URL).status_code == 200
    bins = [text for text in statements if "partition_metadata" in text]
    assert len(bins) == 1
    assert (SUMMARY in bins[0]) == (rows == 0 and scenario_db.backend == "postgresql")


def test_the_etag_moves_with_a_setting_that_shapes_the_answer_only(settings, scenario_db):
    def etag(changes: dict[str, object]) -> str:
        app = app_at(settings.replace(**changes), scenario_db, lambda: NOW)
        try:
            first = app.test_client().get(URL).headers["ETag"]
            assert app.test_client().get(URL).headers["ETag"] == first  # the kept text of the settings
            return first
        finally:
            with app.app_context():
                current_databases().dispose()

    plain = etag({})
    assert etag({"API_GZIP_LEVEL": 1}) == plain
    assert etag({"DEPLOYMENT_LABEL": "Deployed: {number}"}) != plain
    assert etag({"GAP_THRESHOLD_FRACTION": 0.002}) != plain


def test_a_changed_deployment_changes_the_etag(client, scenario_db):
    etag = client.get(URL).headers["ETag"]
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    first = select(XDeployment.eventid).where(
        XDeployment.sensor == REFDES.split("-", 2)[2], XDeployment.deploymentnumber == 1
    )
    events = XEvent.__table__
    with scenario_db.engine.begin() as conn:  # deployment 1 recovered an hour later
        moved = conn.execute(
            update(events)
            .where(events.c.eventid.in_(first.scalar_subquery()))
            .values(eventstoptime=events.c.eventstoptime + 3_600_000)
        )
        assert moved.rowcount == 1
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
