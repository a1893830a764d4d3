"""/expected and /expected/<id>: listing, filters (as /stream's), one object, PATCH."""

from api.factories import seed_fleet

EXPECTED_KEYS = ["id", "name", "method", "expected_rate", "warn_interval", "fail_interval"]


def test_list_has_every_expected_stream_in_the_documented_shape(client, fleet):
    body = client.get("/expected").get_json()
    assert list(body) == ["expected_streams"]
    assert len(body["expected_streams"]) == 5
    first = body["expected_streams"][0]
    assert list(first) == EXPECTED_KEYS
    assert first == {
        "id": fleet["expected_sample"],
        "name": "ctdbp_no_sample",
        "method": "streamed",
        "expected_rate": 0.0,
        "warn_interval": 120,
        "fail_interval": 600,
    }


def test_filters_match_as_on_stream_case_insensitive_substrings(client, fleet):
    by_stream = client.get("/expected?stream=ctdbp_no_sample").get_json()["expected_streams"]
    assert {(e["name"], e["method"]) for e in by_stream} == {
        ("ctdbp_no_sample", "streamed"),
        ("ctdbp_no_sample", "telemetered"),
    }
    both = client.get("/expected?stream=ctdbp_no_sample&method=telemetered").get_json()["expected_streams"]
    assert [(e["name"], e["method"]) for e in both] == [("ctdbp_no_sample", "telemetered")]
    names = {
        (e["name"], e["method"]) for e in client.get("/expected?stream=CTDBP").get_json()["expected_streams"]
    }
    assert names == {(e["name"], e["method"]) for e in client.get("/expected").get_json()["expected_streams"]
                     if "ctdbp" in e["name"]}  # fmt: skip
    streamed = client.get("/expected?method=stream").get_json()["expected_streams"]
    assert streamed and {e["method"] for e in streamed} == {"streamed"}
    assert client.get("/expected?stream=no_such").get_json() == {"expected_streams": []}
    assert client.get("/expected?stream=%25").get_json() == {"expected_streams": []}, "% is a plain character"
    # The same rule as /stream: the streams listed there are those of the expected streams listed here.
    expected_ids = {e["id"] for e in client.get("/expected?stream=SAMPLE").get_json()["expected_streams"]}
    listed = client.get("/stream?stream=SAMPLE").get_json()["status"]
    assert listed and {s["expected_stream"]["id"] for s in listed} <= expected_ids


def test_one_expected_stream(client, fleet):
    response = client.get(f"/expected/{fleet['expected_echo']}")
    assert response.status_code == 200
    assert response.get_json()["name"] == "echo_sounding"


def test_unknown_expected_stream_is_404(client, fleet):
    response = client.get("/expected/9999")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert "9999" in response.get_json()["message"]


def test_patch_changes_the_named_fields_only(client, fleet, auth):
    ident = fleet["expected_echo"]
    response = client.patch(f"/expected/{ident}", json={"id": ident, "warn_interval": 450}, headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {
        "id": ident,
        "name": "echo_sounding",
        "method": "streamed",
        "expected_rate": 0.0,
        "warn_interval": 450,
        "fail_interval": 1800,
    }
    assert client.get(f"/expected/{ident}").get_json()["warn_interval"] == 450


def test_patch_of_an_unknown_expected_stream_is_404(client, fleet, auth):
    assert client.patch("/expected/9999", json={"warn_interval": 1}, headers=auth).status_code == 404


def test_expected_overrides_may_not_be_null(client, fleet, auth):
    ident = fleet["expected_echo"]
    response = client.patch(f"/expected/{ident}", json={"warn_interval": None}, headers=auth)
    assert response.status_code == 400
    assert "warn_interval" in response.get_json()["message"]


def test_seeded_fleet_ids_are_deterministic(monitor_db, now):
    ids = seed_fleet(monitor_db.engine, now)
    assert ids["expected_sample"] == 1 and ids["ctd_sample"] == 1
