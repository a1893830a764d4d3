"""/instrument, /instrument/<refdes_id>, and switching whole instruments."""

from api.factories import ADCP, CTD, HPIES
from ooi_status.status import rollup


def test_instruments_with_rollup_status(client, fleet):
    body = client.get("/instrument").get_json()
    assert list(body) == sorted([CTD, HPIES, ADCP])
    assert {refdes: item["overall"] for refdes, item in body.items()} == {
        CTD: "degraded",
        HPIES: "failed",
        ADCP: "operational",
    }
    ctd = body[CTD]
    assert list(ctd) == ["overall", "status", "silenced", "diagnosis"]
    assert [s["id"] for s in ctd["status"]] == [
        fleet["ctd_sample"],
        fleet["ctd_hardware"],
        fleet["ctd_telemetered"],
    ]
    for item in body.values():
        assert item["overall"] == rollup(s["status"] for s in item["status"])


def test_status_filter_selects_instruments_by_overall_status(client, fleet):
    assert list(client.get("/instrument?status=failed").get_json()) == [HPIES]
    operational = client.get("/instrument?status=operational").get_json()
    assert list(operational) == [ADCP]
    # Every stream of the instrument is listed, notTracked ones included.
    assert {s["status"] for s in operational[ADCP]["status"]} == {"operational", "notTracked"}
    assert client.get("/instrument?status=notTracked").get_json() == {}


def test_stream_filters_narrow_the_streams_and_the_rollup(client, fleet):
    body = client.get("/instrument?refdes=ctdbpn&method=streamed").get_json()
    assert list(body) == [CTD]
    assert body[CTD]["overall"] == "operational"
    assert [s["id"] for s in body[CTD]["status"]] == [fleet["ctd_sample"], fleet["ctd_hardware"]]
    assert list(client.get("/instrument?stream=echo").get_json()) == [HPIES, ADCP]
    assert client.get("/instrument?refdes=NOPE").get_json() == {}


def test_unknown_status_is_400_and_known_ones_match_in_any_case(client, fleet):
    response = client.get("/instrument?status=broken")
    assert response.status_code == 400 and "broken" in response.get_json()["message"]
    assert (
        client.get("/instrument?status=FAILED").get_json()
        == client.get("/instrument?status=failed").get_json()
    )
    assert client.get("/instrument?status=nottracked").status_code == 200


def test_one_instrument(client, fleet):
    body = client.get(f"/instrument/{fleet['ctd']}").get_json()
    assert body["overall"] == "degraded"
    assert [s["reference_designator"] for s in body["status"]] == [CTD] * 3
    assert client.get("/instrument/4242").status_code == 404


def test_instrument_without_streams_is_not_tracked(client, fleet, monitor_db):
    from sqlalchemy.orm import Session

    from api.factories import instrument

    with Session(monitor_db.engine) as session, session.begin():
        ident = instrument(session, "GP05MOAS-GL523-04-CTDGVM000").id
    assert client.get(f"/instrument/{ident}").get_json() == {
        "overall": "notTracked",
        "status": [],
        "silenced": None,
        "diagnosis": None,
    }


def test_disable_and_enable_an_instrument_by_refdes(client, fleet, auth):
    disabled = client.put(f"/instrument/{ADCP}/disable", headers=auth)
    assert disabled.status_code == 200
    streams = disabled.get_json()["status"]
    assert len(streams) == 2
    assert all((s["expected_rate"], s["warn_interval"], s["fail_interval"]) == (0, 0, 0) for s in streams)
    enabled = client.put(f"/instrument/{ADCP}/enable", headers=auth).get_json()["status"]
    assert all((s["expected_rate"], s["warn_interval"], s["fail_interval"]) == (None,) * 3 for s in enabled)
    # Other instruments are untouched.
    assert client.get(f"/stream/{fleet['hpies_echo']}").get_json()["warn_interval"] == 1000


def test_switch_an_instrument_by_numeric_id(client, fleet, auth):
    body = client.put(f"/instrument/{fleet['hpies']}/disable", headers=auth).get_json()
    assert [s["warn_interval"] for s in body["status"]] == [0]


def test_switching_an_unknown_instrument_is_404(client, fleet, auth):
    assert client.put("/instrument/XX00XXXX-XX000-00-XXXXX0000/disable", headers=auth).status_code == 404
    assert client.put("/instrument/4242/enable", headers=auth).status_code == 404
    assert client.put("/instrument/99999999999999/enable", headers=auth).status_code == 404
