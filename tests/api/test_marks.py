"""Acknowledgements and disables with a reason and an end, through the API (both databases)."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.factories import HPIES
from ooi_status.model.monitor import DeployedStream
from ooi_status.times import format_timestamp, utcnow

HOUR = timedelta(hours=1)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_failed_stream_is_acknowledged_with_who_when_and_a_note(client, auth, fleet):
    before = format_timestamp(utcnow())
    response = client.put(
        f"/stream/{fleet['hpies_echo']}/acknowledge", json={"note": "cable fault"}, headers=auth
    )
    assert response.status_code == 200
    mark = response.get_json()["acknowledged"]
    assert mark["by"] == "ops" and mark["note"] == "cable fault"
    assert before <= mark["at"] <= format_timestamp(utcnow())
    assert client.get(f"/stream/{fleet['hpies_echo']}").get_json()["acknowledged"] == mark
    others = [s for s in client.get("/stream").get_json()["status"] if s["id"] != fleet["hpies_echo"]]
    assert all(item["acknowledged"] is None for item in others)


def test_the_note_is_optional_and_acknowledging_again_replaces_it(client, auth, fleet):
    path = f"/stream/{fleet['ctd_telemetered']}/acknowledge"  # degraded
    assert client.put(path, headers=auth).get_json()["acknowledged"]["note"] is None
    again = client.put(path, json={"note": "looking"}, headers=auth).get_json()["acknowledged"]
    assert again["note"] == "looking"


def test_only_failed_or_degraded_streams_can_be_acknowledged(client, auth, fleet):
    for name in ("ctd_sample", "adcp_echo"):  # operational, notTracked
        response = client.put(f"/stream/{fleet[name]}/acknowledge", json={"note": "x"}, headers=auth)
        assert response.status_code == 409 and response.get_json()["error"] == "conflict"
        assert client.get(f"/stream/{fleet[name]}").get_json()["acknowledged"] is None
    assert client.put("/stream/99999/acknowledge", headers=auth).status_code == 404


@pytest.mark.sqlite_only
def test_bad_acknowledgements_are_refused_naming_the_field(client, auth, fleet):
    path = f"/stream/{fleet['hpies_echo']}/acknowledge"
    for body, field in (({"note": 5}, "note"), ({"who": "me"}, "who"), ([], "body")):
        response = client.put(path, json=body, headers=auth)
        assert response.status_code == 400 and response.get_json()["message"].startswith(field)
    assert client.put(path, json={"note": "x"}).status_code == 401
    assert client.put(path, json={"note": "x"}, headers={"X-API-Key": "nope"}).status_code == 403
    assert client.get(path.rsplit("/", 1)[0]).get_json()["acknowledged"] is None


def test_an_instrument_acknowledgement_marks_its_failed_and_degraded_streams(client, auth, fleet):
    response = client.put(
        "/instrument/CE02SHBP-LJ01D-06-CTDBPN106/acknowledge", json={"note": "n"}, headers=auth
    )
    assert response.status_code == 200
    marks = {item["id"]: item["acknowledged"] for item in response.get_json()["status"]}
    assert marks[fleet["ctd_telemetered"]]["note"] == "n"  # degraded
    assert marks[fleet["ctd_sample"]] is None and marks[fleet["ctd_hardware"]] is None
    adcp = client.put("/instrument/RS03AXPS-PC03A-06-VADCPA301/acknowledge", headers=auth)
    assert adcp.status_code == 409  # nothing failed or degraded
    assert client.put("/instrument/XX99XXXX-XX-00-NOTHING/acknowledge", headers=auth).status_code == 404


def test_disable_with_a_reason_and_an_end(client, auth, fleet):
    until = utcnow().replace(microsecond=0) + 3 * HOUR
    body = {"reason": "cable repair", "until": iso(until)}
    response = client.put(f"/stream/{fleet['hpies_echo']}/disable", json=body, headers=auth)
    assert response.status_code == 200
    item = response.get_json()
    assert (item["expected_rate"], item["warn_interval"], item["fail_interval"]) == (0, 0, 0)
    assert item["disabled"]["by"] == "ops" and item["disabled"]["reason"] == "cable repair"
    assert item["disabled"]["until"] == format_timestamp(until)
    enabled = client.put(f"/stream/{fleet['hpies_echo']}/enable", headers=auth).get_json()
    assert enabled["disabled"] is None and enabled["warn_interval"] is None


def test_disable_without_a_body_works_as_before_and_shows_as_disabled(client, auth, fleet):
    item = client.put(f"/stream/{fleet['ctd_sample']}/disable", headers=auth).get_json()
    assert item["disabled"]["until"] is None and item["disabled"]["reason"] is None
    assert item["disabled"]["by"] == "ops"
    # Disabled through PATCH (all three overrides 0): disabled, nobody recorded.
    assert client.get(f"/stream/{fleet['adcp_echo']}").get_json()["disabled"] == {
        "by": None,
        "at": None,
        "reason": None,
        "until": None,
    }


@pytest.mark.sqlite_only
def test_bad_disable_bodies_are_refused_and_nothing_is_written(client, auth, fleet, monitor_db):
    path = f"/stream/{fleet['hpies_echo']}/disable"
    for body, field in (
        ({"until": iso(utcnow() - HOUR)}, "until"),
        ({"until": "next week"}, "until"),
        ({"until": 5}, "until"),
        ({"reason": ["a"]}, "reason"),
        ({"for": "ever"}, "for"),
    ):
        response = client.put(path, json=body, headers=auth)
        assert response.status_code == 400 and response.get_json()["message"].startswith(field), body
    with Session(monitor_db.engine) as session:
        row = session.get(DeployedStream, fleet["hpies_echo"])
        assert row.warn_interval == 1000 and row.disabled_at is None


def test_an_instrument_is_disabled_with_a_reason_and_an_end(client, auth, fleet, monitor_db):
    until = utcnow().replace(microsecond=0) + HOUR
    body = {"reason": "turnaround", "until": iso(until)}
    response = client.put(f"/instrument/{HPIES}/disable", json=body, headers=auth)
    assert response.status_code == 200
    assert {item["disabled"]["reason"] for item in response.get_json()["status"]} == {"turnaround"}
    with Session(monitor_db.engine) as session:
        untils = session.scalars(
            select(DeployedStream.disabled_until).where(
                DeployedStream.reference_designator_id == fleet["hpies"]
            )
        ).all()
        assert untils == [until]


def test_history_entries_carry_a_note(client, fleet):
    body = client.get(f"/stream/{fleet['hpies_echo']}/history").get_json()
    assert all("note" in entry for entry in body["history"])
