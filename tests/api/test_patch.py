"""PATCH /deployed/<id> and /expected/<id>: every invalid body is a 400 naming the field; nothing written."""

import json

import pytest
from sqlalchemy import select

from ooi_status.model.monitor import DeployedStream, ExpectedStream

# (body text, the word the message must name); every one of them is refused.
INVALID_BODIES = [
    ("not json", "body"),
    ("", "body"),
    ("[1, 2]", "body"),
    ('"warn_interval"', "body"),
    ("42", "body"),
    ("null", "body"),
    ('{"warn_interval": 600', "body"),
    ('{"warn_interval": NaN}', "body"),
    ('{"expected_rate": Infinity}', "body"),
    ('{"expected_rate": -Infinity}', "body"),
    ('{"status": "failed"}', "status"),
    ('{"name": "other"}', "name"),
    ('{"warn_interval": 600, "colour": "red"}', "colour"),
    ('{"warn_interval": "600"}', "warn_interval"),
    ('{"warn_interval": true}', "warn_interval"),
    ('{"warn_interval": 600.5}', "warn_interval"),
    ('{"warn_interval": -1}', "warn_interval"),
    ('{"warn_interval": [600]}', "warn_interval"),
    ('{"warn_interval": {"v": 600}}', "warn_interval"),
    ('{"fail_interval": 1e300}', "fail_interval"),
    ('{"fail_interval": 2147483648}', "fail_interval"),
    ('{"fail_interval": false}', "fail_interval"),
    ('{"expected_rate": -0.5}', "expected_rate"),
    ('{"expected_rate": "1"}', "expected_rate"),
    ('{"expected_rate": true}', "expected_rate"),
    ('{"expected_rate": 1e400}', "expected_rate"),
    ('{"id": 999, "warn_interval": 600}', "id"),
    ('{"id": "1", "warn_interval": 600}', "id"),
    ('{"id": true, "warn_interval": 600}', "id"),
    ('{"warn_interval": 600, "fail_interval": -5}', "fail_interval"),
]


def deployed_row(engine, ident):
    with engine.connect() as conn:
        return (
            conn.execute(select(DeployedStream.__table__).where(DeployedStream.id == ident)).one()._asdict()
        )


def expected_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(ExpectedStream.__table__).order_by(ExpectedStream.id)).all()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("body", "field"), INVALID_BODIES)
def test_invalid_deployed_patch_is_400_and_writes_nothing(client, fleet, monitor_db, auth, body, field):
    ident = fleet["ctd_sample"]
    # The valid part of each body names a different stream's id: nothing may be written at all.
    before = deployed_row(monitor_db.engine, ident)
    response = client.patch(
        f"/deployed/{ident}", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.get_json()
    error = response.get_json()
    assert error["error"] == "bad_request"
    assert field in error["message"]
    assert deployed_row(monitor_db.engine, ident) == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("body", "field"), INVALID_BODIES)
def test_invalid_expected_patch_is_400_and_writes_nothing(client, fleet, monitor_db, auth, body, field):
    ident = fleet["expected_sample"]
    before = expected_rows(monitor_db.engine)
    response = client.patch(
        f"/expected/{ident}", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert field in response.get_json()["message"]
    assert expected_rows(monitor_db.engine) == before


@pytest.mark.sqlite_only
def test_every_problem_of_a_body_is_named(client, fleet, auth):
    body = {"warn_interval": -1, "fail_interval": "x", "colour": 1}
    message = client.patch(f"/deployed/{fleet['ctd_sample']}", json=body, headers=auth).get_json()["message"]
    assert "warn_interval" in message and "fail_interval" in message and "colour" in message


def test_valid_patch_changes_exactly_the_named_fields(client, fleet, monitor_db, auth):
    ident = fleet["ctd_sample"]
    before = deployed_row(monitor_db.engine, ident)
    body = {"id": ident, "warn_interval": 300, "expected_rate": 2.5}
    response = client.patch(f"/deployed/{ident}", json=body, headers=auth)
    assert response.status_code == 200
    after = deployed_row(monitor_db.engine, ident)
    assert {k for k in after if after[k] != before[k]} == {"warn_interval", "expected_rate"}
    assert (after["warn_interval"], after["expected_rate"]) == (300, 2.5)
    shown = response.get_json()
    assert (shown["warn_interval"], shown["expected_rate"], shown["fail_interval"]) == (300, 2.5, None)


def test_null_clears_an_override_and_whole_floats_are_integers(client, fleet, monitor_db, auth):
    ident = fleet["hpies_echo"]
    body = {"warn_interval": None, "fail_interval": 900.0}
    shown = client.patch(f"/deployed/{ident}", json=body, headers=auth).get_json()
    assert shown["warn_interval"] is None and shown["fail_interval"] == 900
    assert isinstance(shown["fail_interval"], int)
    assert deployed_row(monitor_db.engine, ident)["fail_interval"] == 900


def test_zero_is_a_value_not_a_clear(client, fleet, auth):
    shown = client.patch(
        f"/deployed/{fleet['ctd_sample']}", json={"expected_rate": 0}, headers=auth
    ).get_json()
    assert shown["expected_rate"] == 0


def test_empty_object_changes_nothing(client, fleet, monitor_db, auth):
    ident = fleet["ctd_sample"]
    before = deployed_row(monitor_db.engine, ident)
    assert client.patch(f"/deployed/{ident}", json={}, headers=auth).status_code == 200
    assert deployed_row(monitor_db.engine, ident) == before


@pytest.mark.sqlite_only
def test_patch_of_unknown_deployed_stream_is_404(client, fleet, auth):
    response = client.patch("/deployed/4242", json={"warn_interval": 1}, headers=auth)
    assert response.status_code == 404


def test_expected_patch_changes_exactly_the_named_fields(client, fleet, monitor_db, auth):
    ident = fleet["expected_sample"]
    before = {row.id: row for row in expected_rows(monitor_db.engine)}
    body = json.dumps({"id": ident, "fail_interval": 1200, "expected_rate": 0.25})
    assert client.patch(f"/expected/{ident}", data=body, headers=auth).status_code == 200
    after = {row.id: row for row in expected_rows(monitor_db.engine)}
    changed = {
        (i, k) for i in after for k in after[i]._fields if getattr(after[i], k) != getattr(before[i], k)
    }
    assert changed == {(ident, "fail_interval"), (ident, "expected_rate")}


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/expected/{expected_sample}", {"warn_interval": 900}),  # its fail_interval is 600
        ("/expected/{expected_sample}", {"warn_interval": 700, "fail_interval": 650}),
        ("/deployed/{ctd_sample}", {"warn_interval": 601}),  # above the expected stream's 600
        ("/deployed/{ctd_sample}", {"fail_interval": 60}),  # below the expected stream's 120
        ("/deployed/{ctd_sample}", {"warn_interval": 50, "fail_interval": 40}),
    ],
)
def test_warn_above_fail_is_refused_when_both_are_non_zero(client, fleet, monitor_db, auth, path, body):
    url = path.format(**fleet)
    before = (deployed_row(monitor_db.engine, fleet["ctd_sample"]), expected_rows(monitor_db.engine))
    response = client.patch(url, json=body, headers=auth)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("warn_interval:") and "fail_interval" in message
    assert (deployed_row(monitor_db.engine, fleet["ctd_sample"]), expected_rows(monitor_db.engine)) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/expected/{expected_sample}", {"warn_interval": 600}),  # equal is fine
        ("/expected/{expected_sample}", {"warn_interval": 900, "fail_interval": 0}),  # fail off
        ("/deployed/{ctd_sample}", {"warn_interval": 0, "fail_interval": 60}),
        ("/deployed/{ctd_sample}", {"warn_interval": 500, "fail_interval": 500}),
        ("/deployed/{ctd_sample}", {"expected_rate": 1.0}),  # intervals untouched
    ],
)
def test_warn_up_to_fail_or_either_zero_is_accepted(client, fleet, auth, path, body):
    assert client.patch(path.format(**fleet), json=body, headers=auth).status_code == 200
