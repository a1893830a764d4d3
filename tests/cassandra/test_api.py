"""The API with Cassandra as the stream source (the CQL responder on loopback), on SQLite and PostgreSQL.

The metadata database holds no stream rows of the instruments Cassandra serves: an instrument
exists when Cassandra has a stream of it or the metadata database a deployment of it, whatever
PostgreSQL's own stream_metadata says. A cluster that does not answer makes /available a 503
naming it, and /health unhealthy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from api import factories
from cql_responder import CqlResponder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings
from ooi_status.times import datetime_to_ntp, utcnow

#: Only in PostgreSQL's stream_metadata (a stale row): Cassandra, the stream source, has no stream of it.
POSTGRES_ONLY = "CE09OSSM-RID27-99-NOSUCH001"
UNKNOWN = "CE09OSSM-RID27-99-NOSUCH002"


@pytest.fixture
def instruments(observatory: demo.Observatory) -> dict[str, str]:
    """Two instruments of Cassandra's stream_metadata: one without and one with a deployment in PostgreSQL."""
    first, second = observatory.refdes_list()[:2]
    return {"streams_only": first, "deployed": second}


@pytest.fixture
def site(
    cassandra_settings: Callable[..., Settings],
    responder: CqlResponder,
    monitor_db: Any,
    empty_metadata_db: Any,
    instruments: dict[str, str],
    now: datetime,
) -> Iterator[Flask]:
    """The app on Cassandra, with a metadata database of deployments and one stale stream row."""
    metadata = demo.Observatory()
    metadata.add_deployment(instruments["deployed"], 1, now - timedelta(days=60), None, "RSINS-TEST-00001")
    day = datetime_to_ntp(now - timedelta(days=3))
    metadata.add_stream(POSTGRES_ONLY, "streamed", "stale_sample", [(int(day), 10, day, day + 600)])
    demo.write_observatory(empty_metadata_db.engine, metadata)
    settings = cassandra_settings(
        responder.port, MONITOR_URL=monitor_db.url, METADATA_URL=empty_metadata_db.url
    )
    app = create_app(settings, TESTING=True, CLOCK=lambda: now)
    yield app
    cached = app.extensions.get("ooi_status.sources")
    if cached is not None:
        cached[1].streams.close()
    with app.app_context():
        current_databases().dispose()


@pytest.fixture
def client(site: Flask) -> FlaskClient:
    return site.test_client()


def measures(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [measure["measure"] for measure in response.get_json()["availability"]]


def test_an_instrument_known_only_to_cassandra_has_a_timeline(client, instruments, observatory):
    refdes = instruments["streams_only"]
    streams = sorted(
        f"{row['method']} {row['stream']}"
        for row in observatory.streams
        if f"{row['subsite']}-{row['node']}-{row['sensor']}" == refdes
    )
    assert measures(client.get(f"/available/{refdes}")) == streams


def test_deployments_from_postgresql_and_streams_from_cassandra(client, instruments):
    names = measures(client.get(f"/available/{instruments['deployed']}"))
    assert names[0] == "Deployments" and len(names) > 1


@pytest.mark.parametrize("refdes", [UNKNOWN, POSTGRES_ONLY])
def test_unknown_to_cassandra_and_without_deployment_is_404(client, refdes):
    response = client.get(f"/available/{refdes}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert refdes in response.get_json()["message"]


def test_the_instrument_page_knows_what_cassandra_knows(client, instruments):
    json_client = {"Accept": "application/json"}
    for refdes in instruments.values():
        assert client.get(f"/ui/instrument/{refdes}", headers=json_client).status_code == 200, refdes
    for refdes in (UNKNOWN, POSTGRES_ONLY):
        response = client.get(f"/ui/instrument/{refdes}", headers=json_client)
        assert response.status_code == 404, refdes
        assert response.get_json()["error"] == "not_found"


def test_available_is_503_json_naming_cassandra_when_it_is_down(client, responder, instruments):
    refdes = instruments["streams_only"]
    assert client.get(f"/available/{refdes}").status_code == 200
    responder.stop()
    response = client.get(f"/available/{refdes}")
    assert response.status_code == 503
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["error"] == "source_unavailable"
    assert body["message"].startswith(
        f"Cassandra 127.0.0.1:{responder.port} keyspace ooi: no host could answer"
    )
    assert body["message"].endswith("try again shortly (see /health)")
    responder.start()
    assert client.get(f"/available/{refdes}").status_code == 200


def test_available_is_503_json_when_the_cluster_never_answered(
    cassandra_settings, free_port, empty_metadata_db
):
    app = create_app(cassandra_settings(free_port, METADATA_URL=empty_metadata_db.url), TESTING=True)
    try:
        response = app.test_client().get("/available/RS01SLBS-LJ01A-01-CTDBPA101")
        assert response.status_code == 503
        assert response.get_json()["error"] == "source_unavailable"
        assert f"Cassandra 127.0.0.1:{free_port}" in response.get_json()["message"]
    finally:
        app.extensions["ooi_status.sources"][1].streams.close()
        with app.app_context():
            current_databases().dispose()


def test_health_checks_cassandra(client, responder, monitor_db):
    with Session(monitor_db.engine) as session, session.begin():
        factories.heartbeat(session, utcnow())
    healthy = client.get("/health")
    assert healthy.status_code == 200, healthy.get_json()
    assert healthy.get_json()["checks"]["stream_source"] == {"ok": True}
    responder.stop()
    down = client.get("/health")
    assert down.status_code == 503
    checks = down.get_json()["checks"]
    assert not checks["stream_source"]["ok"]
    assert f"Cassandra 127.0.0.1:{responder.port}" in checks["stream_source"]["message"]
    assert all(checks[name]["ok"] for name in ("monitor_database", "metadata_database", "monitor_heartbeat"))
    responder.start()
    assert client.get("/health").status_code == 200
