"""API keys: 401 without a key, 403 with a wrong one, both header forms, reads open unless closed."""

import logging

import pytest

from ooi_status import demo
from ooi_status.api import create_app
from ooi_status.config import SettingsError
from ooi_status.keys import hash_api_key, new_api_key

# Keys are checked before any database is read: one backend is enough.
pytestmark = pytest.mark.sqlite_only

WRITES = [
    ("patch", "/deployed/{ctd_sample}", {"warn_interval": 300}),
    ("patch", "/expected/{expected_sample}", {"warn_interval": 300}),
    ("put", "/stream/{ctd_sample}/disable", None),
    ("put", "/stream/{ctd_sample}/enable", None),
    ("put", "/instrument/{ctd}/disable", None),
    ("put", "/instrument/{ctd}/enable", None),
]


def call(client, method, path, body, fleet, headers=None):
    return getattr(client, method)(path.format(**fleet), json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_without_key_is_401(client, fleet, method, path, body):
    response = call(client, method, path, body, fleet)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "Bearer" in response.get_json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_wrong_key_is_403(client, fleet, method, path, body):
    response = call(client, method, path, body, fleet, {"X-API-Key": "not-the-key"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


@pytest.mark.parametrize("form", ["bearer", "x-api-key"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_the_key_is_accepted(client, fleet, write_key, form, method, path, body):
    headers = {"Authorization": f"Bearer {write_key}"} if form == "bearer" else {"X-API-Key": write_key}
    assert call(client, method, path, body, fleet, headers).status_code == 200


def test_other_authorization_schemes_count_as_no_key(client, fleet, write_key):
    response = client.put(
        f"/stream/{fleet['ctd_sample']}/disable", headers={"Authorization": f"Basic {write_key}"}
    )
    assert response.status_code == 401


def test_any_configured_key_is_accepted(api_settings, fleet, write_key):
    second = new_api_key()
    keys = {"ops": hash_api_key(write_key), "cron": hash_api_key(second)}
    client = create_app(api_settings.replace(API_KEYS=keys)).test_client()
    assert (
        client.put(f"/stream/{fleet['ctd_sample']}/disable", headers={"X-API-Key": second}).status_code == 200
    )


def test_writes_are_refused_with_a_hint_when_no_key_is_configured(api_settings, fleet, write_key):
    client = create_app(api_settings.replace(API_KEYS={})).test_client()
    response = client.put(f"/stream/{fleet['ctd_sample']}/disable", headers={"X-API-Key": write_key})
    assert response.status_code == 403
    assert "--new-api-key" in response.get_json()["message"]
    assert "API_KEYS" in response.get_json()["message"]


def test_a_plain_text_key_in_settings_stops_the_app(api_settings):
    with pytest.raises(SettingsError, match="API_KEYS"):
        create_app(api_settings.replace(API_KEYS={"ops": "my-secret"}))


@pytest.fixture
def instrument(empty_metadata_db, now):
    """The refdes of an instrument of the metadata database (a small demo observatory)."""
    observatory = demo.demo_observatory(now, instruments=2, history_days=30)
    demo.write_observatory(empty_metadata_db.engine, observatory)
    return observatory.refdes_list()[0]


def read_paths(fleet, instrument):
    return (
        "/expected",
        "/stream",
        "/instrument",
        f"/deployed/{fleet['ctd_sample']}",
        f"/stream/{fleet['ctd_sample']}/history",
        "/metrics",
        f"/available/{instrument}",
        f"/available/{instrument}?format=svg",
    )


def test_reads_are_open_by_default(api_settings, fleet, instrument, now):
    client = create_app(api_settings, CLOCK=lambda: now).test_client()
    for path in read_paths(fleet, instrument):
        assert client.get(path).status_code == 200, path


def test_reads_can_require_a_key(api_settings, fleet, write_key, instrument, now):
    client = create_app(api_settings.replace(API_REQUIRE_KEY_FOR_READS=True), CLOCK=lambda: now).test_client()
    for path in read_paths(fleet, instrument):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-API-Key": "wrong"}).status_code == 403, path
        assert client.get(path, headers={"Authorization": f"Bearer {write_key}"}).status_code == 200, path
    # A timeline read with a key is not for shared caches.
    timeline = client.get(f"/available/{instrument}", headers={"X-API-Key": write_key})
    assert timeline.headers["Cache-Control"].startswith("private,")
    # Probes and the description stay open.
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/health").status_code in (200, 503)


def test_writes_are_logged_with_the_key_name_never_the_key(client, fleet, write_key, caplog):
    caplog.set_level(logging.DEBUG)
    ident = fleet["ctd_sample"]
    client.patch(f"/deployed/{ident}", json={"warn_interval": 5}, headers={"X-API-Key": write_key})
    client.put(f"/stream/{ident}/disable", headers={"Authorization": f"Bearer {write_key}"})
    client.put(f"/stream/{ident}/disable", headers={"X-API-Key": write_key + "x"})
    writes = [r for r in caplog.records if r.levelno == logging.INFO and "'ops'" in r.getMessage()]
    assert [r.getMessage().split(": ", 1)[1] for r in writes] == [
        f"PATCH /deployed/{ident}",
        f"PUT /stream/{ident}/disable",
    ]
    assert all(write_key not in record.getMessage() for record in caplog.records)
    assert write_key not in caplog.text
