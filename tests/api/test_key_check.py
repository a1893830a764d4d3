"""GET /key: the page checks a key before keeping it."""

import pytest

# Keys are checked before any database is read: one backend is enough.
pytestmark = pytest.mark.sqlite_only


def test_a_configured_key_answers_its_name(client, auth, fleet):
    response = client.get("/key", headers=auth)
    assert response.status_code == 200 and response.get_json() == {"name": "ops"}


def test_no_key_or_a_wrong_key_is_refused(client, fleet):
    assert client.get("/key").status_code == 401
    response = client.get("/key", headers={"X-API-Key": "not-a-key"})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
