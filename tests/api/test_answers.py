"""List answers keyed on the data revision: 304s, never stale in any process, gzip, paging, writes."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.factories import CTD, monitor_statements
from ooi_status import revision
from ooi_status.api import create_app, current_databases
from ooi_status.model.monitor import DeployedStream

LISTS = (
    "/stream",
    "/stream?status=failed",
    "/instrument?refdes=ctd",
    "/expected",
    "/stream/{ctd_sample}/history",
)


def current(engine) -> int:
    with Session(engine) as session:
        return revision.current(session)


def lists(fleet) -> list[str]:
    return [path.format(**fleet) for path in LISTS]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/expected/{expected_sample}", {"warn_interval": 60}),
        ("patch", "/deployed/{ctd_sample}", {"fail_interval": 3600}),
        ("put", "/stream/{ctd_sample}/disable", None),
        ("put", "/stream/{ctd_sample}/enable", None),
        ("put", "/instrument/{ctd}/disable", None),
        ("put", "/instrument/{ctd}/enable", None),
    ],
)
def test_every_api_write_moves_it_and_reads_and_refused_writes_do_not(
    client, fleet, auth, monitor_db, method, path, body
):
    url = path.format(**fleet)
    start = current(monitor_db.engine)
    for read in ("/stream", "/instrument", "/expected", f"/stream/{fleet['ctd_sample']}/history", url):
        client.get(read)
    assert getattr(client, method)(url, json=body).status_code == 401  # no key
    if body is not None:
        assert getattr(client, method)(url, json={"colour": 1}, headers=auth).status_code == 400
    assert current(monitor_db.engine) == start
    assert getattr(client, method)(url, json=body, headers=auth).status_code == 200
    assert current(monitor_db.engine) == start + 1


def test_a_write_to_an_unknown_row_does_not_move_it(client, fleet, auth, monitor_db):
    start = current(monitor_db.engine)
    assert client.patch("/deployed/4242", json={"fail_interval": 5}, headers=auth).status_code == 404
    assert client.put("/stream/4242/disable", headers=auth).status_code == 404
    assert current(monitor_db.engine) == start


@pytest.mark.parametrize("path", LISTS)
def test_a_repeated_request_with_its_etag_gets_304_until_something_changed(client, fleet, auth, path):
    url = path.format(**fleet)
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": 'W/"1-0000"'}).status_code == 200
    assert client.put(f"/stream/{fleet['ctd_sample']}/disable", headers=auth).status_code == 200
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_etags_differ_by_query_and_equal_spellings_share_one(client, fleet):
    tags = {
        path: client.get(path).headers["ETag"] for path in ("/stream", "/stream?status=failed", "/expected")
    }
    assert len(set(tags.values())) == 3
    assert client.get("/stream?status=FAILED&_=123").headers["ETag"] == tags["/stream?status=failed"]


def test_no_cached_answer_outlives_a_write_committed_through_another_process(api_settings, fleet, auth, now):
    """Two app instances (two gunicorn workers' worth of caches) on one database."""
    one, two = create_app(api_settings, TESTING=True), create_app(api_settings, TESTING=True)
    a, b = one.test_client(), two.test_client()
    sample = fleet["ctd_sample"]

    def status_seen(client) -> dict[int, tuple]:
        return {
            s["id"]: (s["status"], s["fail_interval"]) for s in client.get("/stream").get_json()["status"]
        }

    try:
        for client in (a, b, a, b):  # both have the answer cached now
            assert status_seen(client)[sample][1] is None
        assert a.put(f"/stream/{sample}/disable", headers=auth).status_code == 200
        assert status_seen(b)[sample][1] == 0 and status_seen(a)[sample][1] == 0
        # A write by the monitor (another process, no API involved) that bumps in its transaction.
        with Session(current_engine(one)) as session, session.begin():
            session.execute(update(DeployedStream).where(DeployedStream.id == sample).values(status="failed"))
            revision.bump(session)
        assert status_seen(a)[sample][0] == "failed" and status_seen(b)[sample][0] == "failed"
    finally:
        for app in (one, two):
            with app.app_context():
                current_databases().dispose()


def current_engine(app):
    with app.app_context():
        return current_databases().monitor


def test_a_repeated_request_is_answered_from_the_cache_after_one_revision_read(app, client, fleet):
    statements = monitor_statements(app)
    for path in lists(fleet):
        first = client.get(path)
        statements.clear()
        again = client.get(path)
        assert again.data == first.data
        assert len(statements) == 1 and "data_revision" in statements[0]


def test_gzip_bodies_decompress_to_exactly_the_plain_answer(client, monitor_db, now):
    seed_many(monitor_db.engine, now, 40)
    for path in ("/stream", "/instrument", "/stream?status=failed&limit=30"):
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers and len(plain.data) > 1024
        for _ in range(2):  # built, then from the cache
            packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert packed.headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
            assert len(packed.data) < len(plain.data)
            assert gzip.decompress(packed.data) == plain.data
        assert packed.headers["ETag"] == plain.headers["ETag"]
        assert client.get(path, headers={"Accept-Encoding": "gzip;q=0"}).data == plain.data


def test_small_answers_are_sent_as_they_are(client, fleet):
    small = client.get("/expected?stream=echo", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and len(small.data) < 1024
    assert "Content-Encoding" not in small.headers and small.get_json()["expected_streams"]
    assert "Accept-Encoding" in small.headers["Vary"]


def seed_many(engine, now, count: int) -> None:
    from api import factories

    with Session(engine) as session, session.begin():
        kinds = [factories.expected(session, f"stream_{n}") for n in range(4)]
        for n in range(count):
            status = ("operational", "failed", "degraded")[n % 3]
            factories.deployed(
                session, f"CE{n // 4:02d}XXXX-LJ01D-06-CTDBPN106", kinds[n % 4], status,
                status_time=now - timedelta(minutes=n),
            )  # fmt: skip


@pytest.mark.parametrize("limit", [1, 7, 40, 1000])
def test_paging_covers_every_stream_exactly_once(client, monitor_db, now, limit):
    seed_many(monitor_db.engine, now, 40)
    whole = client.get("/stream?status=failed").get_json()["status"]
    seen, url, pages = [], f"/stream?status=FAILED&limit={limit}", 0
    while url:
        body = client.get(url).get_json()
        assert body["total"] == len(whole) and body["limit"] == limit and len(body["status"]) <= limit
        seen += body["status"]
        url, pages = body["next"], pages + 1
        assert url is None or "status=failed" in url
    assert seen == whole and pages == max(1, -(-len(whole) // limit))
    assert client.get("/stream?status=failed").get_json() == {"status": whole}, "without paging: unchanged"


@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_paging_covers_every_instrument_exactly_once(client, monitor_db, now, limit):
    seed_many(monitor_db.engine, now, 40)
    whole = client.get("/instrument?refdes=ce").get_json()
    seen: dict = {}
    url = f"/instrument?refdes=ce&limit={limit}"
    while url:
        body = client.get(url).get_json()
        assert body["total"] == len(whole) and set(body) == {
            "instruments",
            "total",
            "limit",
            "offset",
            "next",
        }
        assert not set(body["instruments"]) & set(seen)
        seen.update(body["instruments"])
        url = body["next"]
    assert seen == whole and list(seen) == list(whole)


def test_an_offset_past_the_end_is_an_empty_last_page(client, fleet):
    body = client.get("/stream?offset=500").get_json()
    assert body["status"] == [] and body["next"] is None and body["limit"] == 100 and body["total"] == 6


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "path",
    [
        "/stream?status=failed&status=degraded",
        "/instrument?refdes=a&refdes=b",
        "/expected?stream=a&stream=a",
        "/stream/1/history?limit=1&limit=2",
        "/stream?limit=5&limit=",
        "/available/CE01ISSM-MFD35-03-CTDBPC000?format=csv&format=json",
        "/stream/1?x=1&x=2",
    ],
)
def test_a_repeated_parameter_is_a_400_on_every_route(client, fleet, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request" and "given 2 times" in response.get_json()["message"]


def test_silences_move_the_revision_and_their_start_shows_without_a_write(client, fleet, auth, monitor_db):
    import time

    from ooi_status.times import utcnow

    def iso(moment) -> str:  # type: ignore[no-untyped-def]
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def silenced() -> set[int]:
        return {s["id"] for s in client.get("/stream").get_json()["status"] if s["silenced"]}

    start = current(monitor_db.engine)
    body = {"refdes": CTD, "ends_at": iso(utcnow() + timedelta(hours=1)), "reason": "turnaround"}
    created = client.post("/silence", json=body, headers=auth)
    assert created.status_code == 201 and current(monitor_db.engine) == start + 1
    assert fleet["ctd_sample"] in silenced()
    assert client.delete(f"/silence/{created.get_json()['id']}", headers=auth).status_code == 200
    assert current(monitor_db.engine) == start + 2 and fleet["ctd_sample"] not in silenced()
    # An upcoming silence: the answer kept before it starts is not served once it has started.
    starts = utcnow().replace(microsecond=0) + timedelta(seconds=2)
    body.update(starts_at=iso(starts))
    assert client.post("/silence", json=body, headers=auth).status_code == 201
    before = client.get("/stream")
    assert fleet["ctd_sample"] not in silenced()
    time.sleep(max(0.0, (starts - utcnow()).total_seconds()) + 0.1)
    after = client.get("/stream", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert fleet["ctd_sample"] in silenced()


def test_the_cache_keeps_the_latest_revision_and_follows_a_restarted_one():
    from ooi_status.api.answers import AnswerCache

    cache = AnswerCache(1000)
    cache.seen(10)
    cache.put(10, "k", "identity", b"ten")
    cache.seen(9)  # a request that read just before a write finishes late: nothing is dropped
    assert cache.get(10, "k", "identity") == b"ten" and cache.get(9, "k", "identity") is None
    cache.put(9, "k", "identity", b"nine")  # and its answer is not kept under the old revision
    assert cache.get(10, "k", "identity") == b"ten"
    cache.seen(11)
    assert cache.get(11, "k", "identity") is None and len(cache) == 0
    cache.seen(5)  # a little below: still a late request
    assert cache.revision == 11
    cache.seen(11 - 2_000_000)  # far below: the revision row was started afresh
    assert cache.revision == 11 - 2_000_000
    cache.put(cache.revision, "big", "gzip", b"x" * 2000)  # larger than the whole cache: not kept
    assert len(cache) == 0
