"""Every error is JSON in one shape: unknown routes, wrong methods, bad input, oversized bodies."""

import pytest

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


@pytest.mark.parametrize(("method", "path"), ROUTES_AND_WRONG_METHODS)
def test_wrong_method_is_405_json(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.is_json
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.get_json()) == {"error", "message"}
    assert response.headers["Allow"]


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


def test_oversized_body_is_413_json(client, fleet, auth):
    response = client.patch(f"/deployed/{fleet['ctd_sample']}", data="x" * 100_000, headers=auth)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_unreachable_database_is_503_json(api_settings, tmp_path):
    from ooi_status.api import create_app

    broken = api_settings.replace(MONITOR_URL="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    response = create_app(broken).test_client().get("/stream")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"
