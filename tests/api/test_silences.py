"""/silence: create, list and end silences; stream and instrument objects show them (both databases)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.factories import ADCP, CTD, HPIES
from ooi_status.model.monitor import Silence
from ooi_status.silence_store import load_silences
from ooi_status.times import format_timestamp, utcnow

HOUR = timedelta(hours=1)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def silence(client, auth, refdes, ends_in=HOUR, **fields):
    body = {"refdes": refdes, "ends_at": iso(utcnow() + ends_in), "reason": "mooring turnaround", **fields}
    response = client.post("/silence", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def silenced(client):
    return {item["id"]: item["silenced"] for item in client.get("/stream").get_json()["status"]}


def test_a_silence_is_created_with_its_id_and_the_key_name(client, auth, fleet):
    ends = utcnow().replace(microsecond=0) + 2 * HOUR
    before = utcnow().replace(microsecond=0)
    response = client.post(
        "/silence",
        json={"refdes": "CE02SHBP", "ends_at": iso(ends), "reason": "cable work", "method": "streamed"},
        headers=auth,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["refdes"] == "CE02SHBP" and body["method"] == "streamed" and body["stream"] is None
    assert body["reason"] == "cable work" and body["created_by"] == "ops"
    assert body["ends_at"] == format_timestamp(ends)
    assert format_timestamp(before) <= body["starts_at"] <= format_timestamp(utcnow())
    assert body["ended_at"] is None and body["state"] == "active"


def test_streams_under_the_prefix_show_the_silence_and_the_filters_select_them(client, auth, fleet):
    made = silence(client, auth, "CE02SHBP-LJ01D", method="streamed")
    marks = silenced(client)
    mark = {"id": made["id"], "until": made["ends_at"], "reason": "mooring turnaround"}
    assert marks[fleet["ctd_sample"]] == mark and marks[fleet["ctd_hardware"]] == mark
    assert marks[fleet["ctd_telemetered"]] is None  # another method
    assert marks[fleet["hpies_echo"]] is None and marks[fleet["adcp_velocity"]] is None
    assert client.get(f"/stream/{fleet['ctd_sample']}").get_json()["silenced"] == mark
    only = client.get("/stream?silenced=true").get_json()["status"]
    assert sorted(item["id"] for item in only) == sorted([fleet["ctd_sample"], fleet["ctd_hardware"]])
    others = client.get("/stream?silenced=FALSE").get_json()["status"]
    assert len(others) == 4 and all(item["silenced"] is None for item in others)
    # The CTD is silenced as a whole only when every stream listed is.
    assert client.get("/instrument").get_json()[CTD]["silenced"] is None
    assert client.get("/instrument?method=streamed").get_json()[CTD]["silenced"] == mark
    assert set(client.get("/instrument?silenced=true&method=streamed").get_json()) == {CTD}
    assert CTD not in client.get("/instrument?silenced=true").get_json()
    assert set(client.get("/instrument?silenced=false").get_json()) == {CTD, HPIES, ADCP}


def test_a_whole_instrument_silence_marks_the_instrument(client, auth, fleet):
    made = silence(client, auth, HPIES, ends_in=3 * HOUR)
    body = client.get(f"/instrument/{fleet['hpies']}").get_json()
    assert body["silenced"] == {"id": made["id"], "until": made["ends_at"], "reason": made["reason"]}
    assert body["status"][0]["silenced"]["id"] == made["id"]
    assert client.get(f"/instrument/{fleet['adcp']}").get_json()["silenced"] is None


def test_overlapping_silences_show_the_one_ending_last_until_it_ends(client, auth, fleet):
    site = silence(client, auth, "RS01SLBS", ends_in=HOUR)
    instrument = silence(client, auth, HPIES, ends_in=5 * HOUR)
    assert silenced(client)[fleet["hpies_echo"]]["id"] == instrument["id"]
    assert client.delete(f"/silence/{instrument['id']}", headers=auth).status_code == 200
    assert silenced(client)[fleet["hpies_echo"]]["id"] == site["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_at": "-1h"}, "ends_at"),
        ({"starts_at": "+3h", "ends_at": "+2h"}, "ends_at"),  # ends before it starts
        ({"starts_at": "-3h", "ends_at": "-2h"}, "ends_at"),  # already over
        ({"ends_at": None}, "ends_at"),
        ({"ends_at": "tomorrow"}, "ends_at"),
        ({"ends_at": 1767225600}, "ends_at"),
        ({"starts_at": "2026-13-01", "ends_at": "+2h"}, "starts_at"),
        ({"reason": None}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": 5}, "reason"),
        ({"refdes": None}, "refdes"),
        ({"refdes": "CE02SHBP--LJ01D"}, "refdes"),
        ({"refdes": "CE02SHBP-"}, "refdes"),
        ({"refdes": "CE02 SHBP"}, "refdes"),
        ({"refdes": "ZZ99XXXX"}, "refdes"),  # well-formed, but no known instrument
        ({"refdes": "CE02SHB"}, "refdes"),  # a prefix of a name is not a site
        ({"method": "carrier_pigeon"}, "method"),
        ({"stream": ""}, "stream"),
        ({"stream": "no_such_stream"}, "stream"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_silences_are_refused_naming_the_field_and_nothing_is_written(
    client, auth, fleet, monitor_db, body, field
):
    def moment(value):
        if isinstance(value, str) and value[:1] in "+-" and value.endswith("h"):
            return iso(utcnow() + int(value[:-1]) * HOUR)
        return value

    sent = {"refdes": "CE02SHBP", "ends_at": iso(utcnow() + HOUR), "reason": "cruise"}
    sent.update({name: moment(value) for name, value in body.items()})
    sent = {name: value for name, value in sent.items() if not (value is None and name in body)}
    if body.get("ends_at", "") is None:
        sent.pop("ends_at", None)
    response = client.post("/silence", json=sent, headers=auth)
    assert response.status_code == 400, (sent, response.get_json())
    assert response.get_json()["error"] == "bad_request"
    assert response.get_json()["message"].startswith(field), response.get_json()
    with Session(monitor_db.engine) as session:
        assert session.scalar(select(func.count()).select_from(Silence)) == 0


@pytest.mark.sqlite_only
def test_a_body_that_is_not_an_object_is_refused(client, auth, fleet):
    for data in (b"[]", b"not json", b""):
        response = client.post("/silence", data=data, headers=auth, content_type="application/json")
        assert response.status_code == 400 and response.get_json()["message"].startswith("body")


@pytest.mark.sqlite_only
def test_silences_need_a_write_key(client, auth, fleet):
    body = {"refdes": "CE02SHBP", "ends_at": iso(utcnow() + HOUR), "reason": "cruise"}
    assert client.post("/silence", json=body).status_code == 401
    assert client.post("/silence", json=body, headers={"X-API-Key": "wrong"}).status_code == 403
    made = silence(client, auth, "CE02SHBP")
    assert client.delete(f"/silence/{made['id']}").status_code == 401
    assert client.delete(f"/silence/{made['id']}", headers={"X-API-Key": "wrong"}).status_code == 403
    assert client.get("/silence").status_code == 200  # reads are open by default


def test_listing_shows_active_and_upcoming_and_all_true_the_ended_ones(client, auth, fleet):
    active = silence(client, auth, "CE02SHBP")
    upcoming = silence(client, auth, "RS01SLBS", starts_at=iso(utcnow() + HOUR), ends_in=2 * HOUR)
    ended = silence(client, auth, "RS03AXPS")
    client.delete(f"/silence/{ended['id']}", headers=auth)
    listed = client.get("/silence").get_json()["silences"]
    assert [(item["id"], item["state"]) for item in listed] == [
        (active["id"], "active"),
        (upcoming["id"], "upcoming"),
    ]
    everything = client.get("/silence?all=TRUE").get_json()["silences"]
    assert {item["id"]: item["state"] for item in everything} == {
        active["id"]: "active",
        upcoming["id"]: "upcoming",
        ended["id"]: "ended",
    }
    assert client.get("/silence?all=false").get_json()["silences"] == listed
    for query in ("all=maybe", "all=true&all=false"):
        response = client.get(f"/silence?{query}")
        assert response.status_code == 400 and response.get_json()["message"].startswith("all")


def test_ending_a_silence_keeps_the_row_and_unsilences_the_streams(client, auth, fleet, monitor_db):
    made = silence(client, auth, "RS01SLBS")
    assert silenced(client)[fleet["hpies_echo"]] is not None
    response = client.delete(f"/silence/{made['id']}", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "ended" and body["ended_at"] == body["ends_at"]
    assert body["starts_at"] == made["starts_at"]
    assert silenced(client)[fleet["hpies_echo"]] is None
    with Session(monitor_db.engine) as session:
        kept = session.get(Silence, made["id"])
        assert kept is not None and kept.reason == "mooring turnaround" and kept.ended_at is not None
    again = client.delete(f"/silence/{made['id']}", headers=auth)
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    assert client.delete("/silence/99999", headers=auth).status_code == 404


def test_ending_an_upcoming_silence_makes_it_empty_at_now(client, auth, fleet):
    made = silence(client, auth, "RS01SLBS", starts_at=iso(utcnow() + HOUR), ends_in=2 * HOUR)
    body = client.delete(f"/silence/{made['id']}", headers=auth).get_json()
    assert body["starts_at"] == body["ends_at"] == body["ended_at"]
    assert body["state"] == "ended"


def test_load_silences_returns_those_overlapping_the_window(client, auth, fleet, monitor_db):
    now = utcnow()
    first = silence(client, auth, "CE02SHBP", ends_in=HOUR)
    later = silence(client, auth, HPIES, starts_at=iso(now + 2 * HOUR), ends_in=3 * HOUR)
    with Session(monitor_db.engine) as session:
        assert [r.id for r in load_silences(session, now, now + 10 * HOUR)] == [first["id"], later["id"]]
        assert [r.id for r in load_silences(session, now + 90 * timedelta(minutes=1), now + 10 * HOUR)] == [
            later["id"]
        ]
        assert load_silences(session, now + 5 * HOUR, now + 6 * HOUR) == []
        rule = load_silences(session, now, now + HOUR)[0]
        assert rule.refdes == "CE02SHBP" and rule.reason == "mooring turnaround"
        assert rule.ends_at.tzinfo is not None
