"""Read keys: a dashboard's key reads where reads need a key, and is refused on every write route.

The write routes are taken from the app's own url_map (every rule with POST, PUT, PATCH or
DELETE), so that routes added later are held to the same rule.
"""

from __future__ import annotations

import pytest
from flask import Flask

from ooi_status.api import create_app
from ooi_status.config import SettingsError
from ooi_status.keys import api_key_entry, hash_api_key, new_api_key

# Keys are checked before any database is read: one backend is enough.
pytestmark = pytest.mark.sqlite_only

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def read_key() -> str:
    return new_api_key()


@pytest.fixture
def scoped_app(api_settings, write_key, read_key) -> Flask:
    keys = {"ops": hash_api_key(write_key), "dashboard": api_key_entry(read_key, "read")}
    return create_app(api_settings.replace(API_KEYS=keys, API_REQUIRE_KEY_FOR_READS=True), TESTING=True)


def write_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) of every write route, its arguments filled with ids that exist or not."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            built = rule.build({name: 1 for name in rule.arguments}, append_unknown=False)
            assert built is not None, rule.rule
            routes.append((method, built[1]))
    return routes


def test_a_read_key_reads_when_reads_need_a_key(scoped_app, fleet, read_key):
    client = scoped_app.test_client()
    assert client.get("/stream").status_code == 401
    for path in ("/stream", f"/stream/{fleet['ctd_sample']}", "/instrument", "/expected"):
        response = client.get(path, headers={"X-API-Key": read_key})
        assert response.status_code == 200, (path, response.get_json())


def test_a_read_key_is_refused_on_every_write_route(scoped_app, fleet, read_key):
    client = scoped_app.test_client()
    routes = write_routes(scoped_app)
    assert ("PUT", "/stream/1/disable") in routes and len(routes) >= 6
    for method, path in routes:
        response = client.open(path, method=method, json={}, headers={"Authorization": f"Bearer {read_key}"})
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["error"] == "forbidden"
        assert "read key" in response.get_json()["message"]


def test_old_plain_hash_entries_stay_write_keys(scoped_app, fleet, write_key):
    client = scoped_app.test_client()
    response = client.put(f"/stream/{fleet['ctd_sample']}/disable", headers={"X-API-Key": write_key})
    assert response.status_code == 200
    assert client.get("/stream", headers={"X-API-Key": write_key}).status_code == 200


@pytest.mark.parametrize(
    "entry",
    [
        {"hash": "sha256:" + "0" * 64, "scope": "admin"},
        {"hash": "plain", "scope": "read"},
        {"hash": "sha256:" + "0" * 64, "scope": "read", "extra": 1},
    ],
)
def test_a_malformed_scoped_entry_stops_the_app(api_settings, entry):
    with pytest.raises(SettingsError, match="API_KEYS"):
        create_app(api_settings.replace(API_KEYS={"dashboard": entry}))
