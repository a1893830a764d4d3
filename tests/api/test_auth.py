"""API keys: 401 without a key, 403 with a wrong one, both header forms, reads open unless closed."""

import logging

import pytest

from ooi_status.api import create_app
from ooi_status.config import SettingsError
from ooi_status.keys import hash_api_key, new_api_key

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


def test_reads_are_open_by_default(client, fleet):
    for path in ("/expected", "/stream", "/instrument", f"/stream/{fleet['ctd_sample']}/history", "/metrics"):
        assert client.get(path).status_code == 200, path


def test_reads_can_require_a_key(api_settings, fleet, write_key):
    client = create_app(api_settings.replace(API_REQUIRE_KEY_FOR_READS=True)).test_client()
    for path in ("/expected", "/stream", "/instrument", f"/deployed/{fleet['ctd_sample']}", "/metrics"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-API-Key": "wrong"}).status_code == 403, path
        assert client.get(path, headers={"Authorization": f"Bearer {write_key}"}).status_code == 200, path
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
