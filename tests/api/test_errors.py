"""Every error is JSON in one shape: unknown routes, wrong methods, bad input, oversized bodies,
constraint conflicts; and every request gives its database connections back, error or not."""

import pytest
from flask import Flask
from sqlalchemy import select

from ooi_status.api import create_app, current_databases, monitor_session
from ooi_status.model.monitor import ReferenceDesignator

ROUTES_AND_WRONG_METHODS = [
    ("post", "/expected"),
    ("delete", "/expected/1"),
    ("put", "/deployed/1"),
    ("post", "/stream"),
    ("patch", "/stream/1"),
    ("get", "/stream/1/disable"),
    ("post", "/stream/1/enable"),
    ("put", "/stream/1/history"),
    ("delete", "/instrument"),
    ("post", "/instrument/1"),
    ("get", "/instrument/CE02SHBP-LJ01D-06-CTDBPN106/disable"),
    ("post", "/health"),
    ("put", "/metrics"),
    ("post", "/openapi.json"),
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("method", "path"), ROUTES_AND_WRONG_METHODS)
def test_wrong_method_is_405_json(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.is_json
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.get_json()) == {"error", "message"}
    assert response.headers["Allow"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/expected/4", "GET, PATCH"),
        ("put", "/deployed/1", "GET, PATCH"),
        ("post", "/stream", "GET"),
        ("get", "/stream/1/disable", "PUT"),
        ("post", "/health", "GET"),
    ],
)
def test_wrong_method_message_names_the_allowed_methods(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.get_json()["message"] == (
        f"{method.upper()} is not allowed on {path}; allowed: {allowed}"
    )
    # The header keeps every method the route answers, HEAD and OPTIONS included.
    assert set(response.headers["Allow"].split(", ")) >= set(allowed.split(", "))


@pytest.mark.parametrize(
    "path", ["/nothing", "/stream/abc", "/stream/-1", "/stream/99999999999", "/expected/1/x"]
)
def test_unknown_route_or_id_form_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_nul_bytes_in_parameters_are_400(client, fleet):
    response = client.get("/stream?refdes=CE%00")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("refdes")


@pytest.mark.sqlite_only
def test_oversized_body_is_413_json(client, fleet, auth):
    response = client.patch(f"/deployed/{fleet['ctd_sample']}", data="x" * 100_000, headers=auth)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


@pytest.mark.sqlite_only
def test_unknown_deployed_id_is_404_json(client, fleet):
    response = client.get("/deployed/4242")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"] == "not_found"
    assert set(response.get_json()) == {"error", "message"}
    assert "4242" in response.get_json()["message"]


def with_duplicate_route(app: Flask) -> Flask:
    """A route that writes a second instrument of an existing name: the database's unique constraint
    refuses it (no route of the API can do this; it stands for any write that hits a constraint)."""

    def duplicate():
        session = monitor_session()
        name = session.scalars(select(ReferenceDesignator.name).limit(1)).one()
        session.add(ReferenceDesignator(name=name))
        session.flush()
        return {}

    app.add_url_rule("/duplicate", "duplicate", duplicate, methods=["POST"])
    return app


def test_a_constraint_violation_is_409_conflict_json(app, fleet):
    response = with_duplicate_route(app).test_client().post("/duplicate")
    assert response.status_code == 409
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "conflict"
    assert "INSERT" not in body["message"] and "reference_designator" not in body["message"]


def checked_out(app: Flask) -> int:
    with app.app_context():
        return current_databases().monitor.pool.checkedout()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/stream", 200),
        ("get", "/instrument", 200),
        ("get", "/stream/4242", 404),
        ("post", "/duplicate", 409),
    ],
)
def test_every_request_gives_its_connections_back(app, fleet, method, path, status):
    client = with_duplicate_route(app).test_client()
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert checked_out(app) == 0
    with app.app_context():
        assert current_databases().monitor.pool.checkedin() >= 1  # the request did use the pool


@pytest.mark.sqlite_only
def test_unreachable_database_is_503_json(api_settings, tmp_path):
    broken = api_settings.replace(MONITOR_URL="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    response = create_app(broken).test_client().get("/stream")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"
    assert response.get_json()["message"] == (
        "the monitor database PostgreSQL 127.0.0.1:1/none did not answer; try again shortly (see /health)"
    )
