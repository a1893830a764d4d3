"""/health and /metrics."""

import random
import string
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from api import factories
from ooi_status.api import create_app
from ooi_status.times import utcnow


def beat(monitor_db, started_at, **values):
    with Session(monitor_db.engine) as session, session.begin():
        factories.heartbeat(session, started_at, **values)


def test_healthy_when_both_databases_answer_and_the_round_is_recent(client, monitor_db):
    beat(monitor_db, utcnow() - timedelta(seconds=30), streams_checked=12)
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"monitor_database", "metadata_database", "monitor_heartbeat"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["monitor_heartbeat"]["streams_checked"] == 12
    assert body["checks"]["monitor_heartbeat"]["max_age"] == 180


def test_unhealthy_when_the_monitor_never_ran(client, monitor_db):
    response = client.get("/health")
    assert response.status_code == 503
    heartbeat = response.get_json()["checks"]["monitor_heartbeat"]
    assert not heartbeat["ok"] and "never" in heartbeat["message"]


def test_unhealthy_when_the_heartbeat_is_stale(client, monitor_db):
    beat(monitor_db, utcnow() - timedelta(seconds=200))
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["monitor_database"]["ok"] and body["checks"]["metadata_database"]["ok"]
    assert "more than 180 s" in body["checks"]["monitor_heartbeat"]["message"]


def test_heartbeat_age_limit_is_a_setting(api_settings, monitor_db):
    beat(monitor_db, utcnow() - timedelta(seconds=200))
    client = create_app(api_settings.replace(HEALTH_MAX_HEARTBEAT_AGE=600.0)).test_client()
    assert client.get("/health").status_code == 200


def test_unhealthy_when_the_last_round_failed(client, monitor_db):
    beat(monitor_db, utcnow(), ok=False, error="metadata database unavailable")
    body = client.get("/health").get_json()
    assert "metadata database unavailable" in body["checks"]["monitor_heartbeat"]["message"]


def test_unhealthy_when_a_database_does_not_answer(api_settings, monitor_db):
    broken = api_settings.replace(METADATA_URL="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    beat(monitor_db, utcnow())
    response = create_app(broken).test_client().get("/health")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["monitor_database"]["ok"] and checks["monitor_heartbeat"]["ok"]
    assert (
        not checks["metadata_database"]["ok"] and "does not answer" in checks["metadata_database"]["message"]
    )


def samples(client):
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_streams_instruments_rounds_and_outbox(client, fleet, monitor_db, now):
    beat(monitor_db, utcnow() - timedelta(seconds=10), duration=1.5)
    beat(monitor_db, utcnow() - timedelta(seconds=5), kind="deliver", duration=0.5)
    with Session(monitor_db.engine) as session, session.begin():
        factories.outbox(session, "pending", now, 3)
        factories.outbox(session, "dead", now, 1)
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    found = samples(client)
    assert found[("ooi_status_database_up", ())] == 1
    streams = {"operational": 2, "degraded": 1, "failed": 1, "notTracked": 2}
    for status, count in streams.items():
        assert found[("ooi_status_streams", (("status", status),))] == count
    instruments = {"operational": 1, "degraded": 1, "failed": 1, "notTracked": 0}
    for status, count in instruments.items():
        assert found[("ooi_status_instruments", (("status", status),))] == count
    assert found[("ooi_status_monitor_round_duration_seconds", (("kind", "check"),))] == 1.5
    assert 9 <= found[("ooi_status_monitor_round_age_seconds", (("kind", "check"),))] < 60
    for state, count in {"pending": 3, "delivered": 0, "dead": 1}.items():
        assert found[("ooi_status_outbox_events", (("state", state),))] == count


def test_metrics_count_http_requests_by_route(client, fleet):
    client.get("/stream")
    client.get("/stream")
    client.get(f"/stream/{fleet['ctd_sample']}")
    client.get("/stream/4242")
    found = samples(client)
    total = "ooi_status_http_requests_total"
    assert found[(total, (("method", "GET"), ("route", "/stream"), ("status", "200")))] == 2
    assert found[(total, (("method", "GET"), ("route", "/stream/<id:stream_id>"), ("status", "200")))] == 1
    assert found[(total, (("method", "GET"), ("route", "/stream/<id:stream_id>"), ("status", "404")))] == 1
    count = "ooi_status_http_request_duration_seconds_count"
    assert found[(count, (("method", "GET"), ("route", "/stream/<id:stream_id>")))] == 2


@pytest.mark.parametrize("backend", ["sqlite"])  # no database read: the labels only
def test_made_up_methods_and_unknown_routes_add_no_series(client, fleet):
    """10,000 requests with random methods leave the count of HTTP series as it was: methods outside
    the standard set are counted as "other", every path that matches no route as one route."""
    paths = ["/stream", f"/stream/{fleet['ctd_sample']}", "/instrument", "/no/such/route", "/stream/x/y"]
    standard = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    rng = random.Random(2970)

    def made_up() -> str:
        while True:
            method = "".join(rng.choices(string.ascii_uppercase + "-_", k=rng.randint(1, 12)))
            if method not in standard:
                return method

    def http_series() -> set:
        return {key for key in samples(client) if key[0].startswith("ooi_status_http_")}

    for path in paths:
        client.open(path, method="MADE-UP")
    http_series()  # the scrape's own series, counted from the next one on
    before = http_series()
    for _ in range(10_000):
        client.open(rng.choice(paths), method=made_up())
    after = http_series()
    assert after == before, sorted(after - before)[:5]
    labels = {dict(labels)["method"] for name, labels in after if name == "ooi_status_http_requests_total"}
    assert labels == {"GET", "other"}
    routes = {dict(labels)["route"] for name, labels in after if dict(labels).get("method") == "other"}
    assert routes == {"(unmatched)"}


def test_each_app_has_its_own_registry(api_settings, fleet):
    first, second = create_app(api_settings).test_client(), create_app(api_settings).test_client()
    first.get("/stream")
    assert not any(
        name == "ooi_status_http_requests_total" and dict(labels).get("route") == "/stream"
        for name, labels in samples(second)
    )


def test_metrics_answer_when_the_monitor_database_is_down(api_settings):
    broken = api_settings.replace(MONITOR_URL="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    client = create_app(broken).test_client()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert samples(client)[("ooi_status_database_up", ())] == 0


def test_metrics_give_each_instruments_status_and_each_streams_data_age(client, fleet):
    found = samples(client)
    per_instrument: dict[str, dict[str, float]] = {}
    for (name, labels), value in found.items():
        if name == "ooi_status_instrument_status":
            per_instrument.setdefault(dict(labels)["refdes"], {})[dict(labels)["status"]] = value
    assert per_instrument, "one series per instrument and status"
    for statuses in per_instrument.values():
        assert set(statuses) == {"operational", "degraded", "failed", "notTracked"}
        assert sorted(statuses.values()) == [0, 0, 0, 1]
    for status in ("operational", "degraded", "failed", "notTracked"):
        rolled = sum(1 for statuses in per_instrument.values() if statuses[status] == 1)
        assert rolled == found[("ooi_status_instruments", (("status", status),))]
    ages = {
        (dict(labels)["refdes"], dict(labels)["method"], dict(labels)["stream"]): value
        for (name, labels), value in found.items()
        if name == "ooi_status_stream_data_age_seconds"
    }
    assert ages and all(value >= 0 for value in ages.values())
    assert {refdes for refdes, _, _ in ages} <= set(per_instrument)


def test_stream_data_age_can_be_switched_off(api_settings, fleet):
    client = create_app(api_settings.replace(METRICS_STREAM_DATA_AGE=False)).test_client()
    names = {name for name, _ in samples(client)}
    assert "ooi_status_instrument_status" in names
    assert "ooi_status_stream_data_age_seconds" not in names
