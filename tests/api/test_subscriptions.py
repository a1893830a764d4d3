"""/subscription: create, list, delete, test-send; the write key; precise 400s."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DEAD, DELIVERED, PENDING, PendingUpdate

EMAIL = {
    "kind": "email",
    "target": "ops@example.org",
    "match": "CE01ISSM",
    "min_status": "degraded",
    "mode": "both",
}


def test_create_list_delete(client, auth):
    created = client.post("/subscription", json=EMAIL, headers=auth)
    assert created.status_code == 201
    body = created.get_json()
    assert {k: body[k] for k in EMAIL} == EMAIL
    assert body["created_by"] == "ops" and body["last_digest_at"] is None
    listed = client.get("/subscription", headers=auth).get_json()
    assert [s["id"] for s in listed["subscriptions"]] == [body["id"]]
    assert client.delete(f"/subscription/{body['id']}", headers=auth).status_code == 204
    assert client.get("/subscription", headers=auth).get_json() == {"subscriptions": []}
    gone = client.delete(f"/subscription/{body['id']}", headers=auth)
    assert gone.status_code == 404 and gone.get_json()["error"] == "not_found"


def test_defaults_case_insensitive_choices_and_a_masked_webhook(client, auth):
    body = {"kind": "CHAT", "target": "https://hooks.example.org/services/T0/B0/secret"}
    created = client.post("/subscription", json=body, headers=auth).get_json()
    assert (created["kind"], created["match"], created["min_status"], created["mode"]) == (
        "chat", "", "failed", "immediate",
    )  # fmt: skip
    assert created["target"] == "https://hooks.example.org/..."


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"target": "a@b.org"}, ["kind: required"]),
        ({**EMAIL, "kind": "sms"}, ["kind: must be one of email, chat"]),
        ({**EMAIL, "target": "not an address"}, ["target: not an e-mail address"]),
        ({**EMAIL, "kind": "chat", "target": "ftp://x/y"}, ["target: a chat target must be an http(s)"]),
        ({**EMAIL, "min_status": "operational", "mode": "weekly"}, ["min_status: must be", "mode: must be"]),
        ({**EMAIL, "match": "CE01 ISSM"}, ["match: must be a reference-designator prefix"]),
        ({**EMAIL, "colour": "red"}, ["colour: unknown field"]),
        ({**EMAIL, "target": 5}, ["target: required"]),
    ],
)
def test_bad_input_is_a_400_naming_every_field(client, auth, body, fields):
    response = client.post("/subscription", json=body, headers=auth)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert all(field in message for field in fields), message


@pytest.mark.sqlite_only
def test_a_body_that_is_not_an_object_is_a_400(client, auth):
    response = client.post("/subscription", data="[1]", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/subscription"), ("post", "/subscription"), ("delete", "/subscription/1"),
     ("post", "/subscription/1/test")],
)  # fmt: skip
def test_every_route_needs_the_write_key(client, method, path):
    response = getattr(client, method)(path, json=EMAIL)
    assert response.status_code == 401
    wrong = getattr(client, method)(path, json=EMAIL, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 403


def test_test_send_queues_one_message_in_the_outbox(client, auth, monitor_db):
    sub = client.post("/subscription", json=EMAIL, headers=auth).get_json()
    response = client.post(f"/subscription/{sub['id']}/test", headers=auth)
    assert response.status_code == 202
    answer = response.get_json()
    with Session(monitor_db.engine) as session:
        row = session.scalars(select(PendingUpdate)).one()
    assert (row.id, row.sink, row.asset_uid, row.state) == (
        answer["outbox_id"], "mailto:ops@example.org", f"subscription/{sub['id']}", PENDING,
    )  # fmt: skip
    assert row.message["message_id"] == answer["message_id"]
    assert row.message["subject"] == "[ooi_status] Test message"
    assert client.post("/subscription/999/test", headers=auth).status_code == 404


def test_streams_say_whether_they_are_flapping(client, fleet):
    streams = client.get("/stream").get_json()["status"]
    assert streams and all(s["flapping"] is False for s in streams)


def test_metrics_count_messages_by_kind_and_state(client, monitor_db, now):
    with Session(monitor_db.engine) as session, session.begin():
        for sink, state, attempts in [
            ("mailto:a@b.org", DELIVERED, 1), ("mailto:a@b.org", DEAD, 5), ("mailto:a@b.org", PENDING, 2),
            ("chat:https://x/y", DELIVERED, 1), ("events", PENDING, 0),
        ]:  # fmt: skip
            session.add(PendingUpdate(asset_uid="x", sink=sink, message={}, state=state, attempts=attempts,
                                      error_count=0, created_at=now, next_attempt_at=now))  # fmt: skip
    text = client.get("/metrics").get_data(as_text=True)
    for line in [
        'ooi_status_outbox_messages{kind="email",state="sent"} 1.0',
        'ooi_status_outbox_messages{kind="email",state="dead"} 1.0',
        'ooi_status_outbox_messages{kind="email",state="failed"} 1.0',
        'ooi_status_outbox_messages{kind="chat",state="sent"} 1.0',
        'ooi_status_outbox_messages{kind="events",state="pending"} 1.0',
        'ooi_status_outbox_messages{kind="webhook",state="sent"} 0.0',
    ]:
        assert line in text
