"""/stream, /stream/<id>, enable/disable, history."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import factories
from api.factories import ADCP, HPIES
from ooi_status.model.monitor import StatusHistory

DEPLOYED_KEYS = [
    "id",
    "reference_designator",
    "reference_designator_id",
    "expected_stream",
    "expected_rate",
    "warn_interval",
    "fail_interval",
    "status",
    "status_time",
]


def ids(body):
    return [item["id"] for item in body["status"]]


def test_list_every_stream_in_the_documented_shape(client, fleet, now):
    body = client.get("/stream").get_json()
    assert list(body) == ["status"]
    assert ids(body) == sorted(ids(body)) and len(ids(body)) == 6
    hpies = next(item for item in body["status"] if item["id"] == fleet["hpies_echo"])
    assert list(hpies)[: len(DEPLOYED_KEYS)] == DEPLOYED_KEYS
    assert hpies["reference_designator"] == HPIES
    assert hpies["reference_designator_id"] == fleet["hpies"]
    assert hpies["expected_stream"]["name"] == "echo_sounding"
    assert (hpies["expected_rate"], hpies["warn_interval"], hpies["fail_interval"]) == (None, 1000, None)
    assert hpies["status"] == "failed"
    assert hpies["status_time"] == (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")


def test_status_time_is_null_before_any_change(client, fleet):
    assert client.get(f"/stream/{fleet['ctd_hardware']}").get_json()["status_time"] is None


def test_refdes_method_and_stream_filters_match_substrings(client, fleet):
    assert ids(client.get("/stream?refdes=CTDBP").get_json()) == [
        fleet["ctd_sample"],
        fleet["ctd_hardware"],
        fleet["ctd_telemetered"],
    ]
    assert ids(client.get("/stream?method=teleme").get_json()) == [fleet["ctd_telemetered"]]
    assert ids(client.get("/stream?stream=echo").get_json()) == [fleet["hpies_echo"], fleet["adcp_echo"]]
    assert ids(client.get("/stream?refdes=ctdbp&stream=SAMPLE&method=stream").get_json()) == [
        fleet["ctd_sample"]
    ]


def test_filters_are_literal_not_patterns(client, fleet):
    assert ids(client.get("/stream?stream=%25").get_json()) == []
    assert ids(client.get("/stream?stream=ctdbp_no_").get_json()) != []
    assert ids(client.get("/stream?stream=ctdbp_no__ample").get_json()) == []


def test_status_filter_is_exact(client, fleet):
    assert ids(client.get("/stream?status=failed").get_json()) == [fleet["hpies_echo"]]
    assert ids(client.get("/stream?status=notTracked").get_json()) == [
        fleet["ctd_hardware"],
        fleet["adcp_echo"],
    ]
    assert ids(client.get("/stream?status=operational&refdes=VADCP").get_json()) == [fleet["adcp_velocity"]]


@pytest.mark.sqlite_only
def test_unknown_status_is_400_naming_it(client, fleet):
    response = client.get("/stream?status=broken")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert "status" in body["message"] and "'broken'" in body["message"]


def test_one_stream_and_404(client, fleet):
    body = client.get(f"/stream/{fleet['adcp_velocity']}").get_json()
    assert body["reference_designator"] == ADCP and body["measured_rate"] == 0.9
    assert client.get(f"/deployed/{fleet['adcp_velocity']}").get_json() == body
    response = client.get("/stream/4242")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_disable_then_enable_round_trip(client, fleet, auth):
    ident = fleet["hpies_echo"]
    disabled = client.put(f"/stream/{ident}/disable", headers=auth)
    assert disabled.status_code == 200
    body = disabled.get_json()
    assert (body["expected_rate"], body["warn_interval"], body["fail_interval"]) == (0, 0, 0)
    assert client.get(f"/stream/{ident}").get_json() == body
    enabled = client.put(f"/stream/{ident}/enable", headers=auth).get_json()
    assert (enabled["expected_rate"], enabled["warn_interval"], enabled["fail_interval"]) == (
        None,
        None,
        None,
    )
    assert body["disabled"] is not None and enabled["disabled"] is None
    assert {k: v for k, v in enabled.items() if not k.endswith(("_rate", "_interval", "disabled"))} == {
        k: v for k, v in body.items() if not k.endswith(("_rate", "_interval", "disabled"))
    }


def test_disable_unknown_stream_is_404(client, fleet, auth):
    assert client.put("/stream/4242/disable", headers=auth).status_code == 404
    assert client.put("/stream/4242/enable", headers=auth).status_code == 404


def test_history_is_newest_first_with_paging(client, fleet, monitor_db, now):
    ident = fleet["ctd_sample"]
    with Session(monitor_db.engine) as session, session.begin():
        stream = session.get(factories.DeployedStream, ident)
        changes = [
            (
                "operational" if i % 2 else "failed",
                "failed" if i % 2 else "operational",
                now - timedelta(hours=i),
            )
            for i in range(5)
        ]
        factories.history(session, stream, changes)
    first = client.get(f"/stream/{ident}/history?limit=2").get_json()
    assert first["total"] == 5 and first["limit"] == 2 and first["offset"] == 0
    assert [h["changed_at"] for h in first["history"]] == [
        now.strftime("%Y-%m-%d %H:%M:%S"),
        (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
    ]
    assert list(first["history"][0]) == ["id", "old_status", "new_status", "changed_at", "elapsed", "note"]
    assert first["next"] == f"/stream/{ident}/history?limit=2&offset=2"
    second = client.get(first["next"]).get_json()
    third = client.get(second["next"]).get_json()
    assert len(third["history"]) == 1 and third["next"] is None
    seen = [h["id"] for page in (first, second, third) for h in page["history"]]
    assert len(set(seen)) == 5
    assert client.get(f"/stream/{ident}/history").get_json()["next"] is None


def test_history_of_a_stream_without_changes_is_empty(client, fleet):
    body = client.get(f"/stream/{fleet['adcp_echo']}/history").get_json()
    assert body == {
        "stream_id": fleet["adcp_echo"],
        "history": [],
        "total": 0,
        "limit": 100,
        "offset": 0,
        "next": None,
    }


def test_empty_paging_parameters_count_as_absent(client, fleet):
    ident = fleet["ctd_sample"]
    default = client.get(f"/stream/{ident}/history").get_json()
    for query in ("offset=", "limit=", "limit=&offset=", "refdes=&limit=&offset="):
        response = client.get(f"/stream/{ident}/history?{query}")
        assert response.status_code == 200, (query, response.get_json())
        assert response.get_json() == default, query
    assert (default["limit"], default["offset"]) == (100, 0)


@pytest.mark.sqlite_only
def test_history_paging_is_validated(client, fleet):
    ident = fleet["ctd_sample"]
    for query, name in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
    ]:
        response = client.get(f"/stream/{ident}/history?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["message"].startswith(name)
    assert client.get("/stream/4242/history").status_code == 404


def test_lists_take_the_revision_and_three_queries_whatever_their_length(app, client, monitor_db, now):
    with Session(monitor_db.engine) as session, session.begin():
        kinds = [factories.expected(session, f"stream_{n}") for n in range(4)]
        for n in range(60):
            factories.deployed(
                session, f"CE{n:02d}XXXX-LJ01D-06-CTDBPN106", kinds[n % 4], "failed", status_time=now
            )
    statements = factories.monitor_statements(app)
    for path in ("/stream", "/stream?status=failed", "/instrument", "/instrument?status=failed&refdes=CE"):
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200
        # the revision, the rows, the expected streams they refer to, the silences in force, the
        # silence boundaries ahead; for instruments also the port summaries of the diagnosed ones
        assert len(statements) <= (7 if path.startswith("/instrument") else 5), (path, statements)
        assert "data_revision" in statements[0]
        statements.clear()
        assert client.get(path).status_code == 200
        assert len(statements) == 1, "a repeated request reads the revision only"
    assert len(client.get("/stream").get_json()["status"]) == 60


def test_floats_are_rounded_to_what_they_mean(client, monitor_db, now):
    """Durations in seconds to the millisecond, measured rates to six significant digits."""
    with Session(monitor_db.engine) as session, session.begin():
        kind = factories.expected(session, "ctdbp_no_sample")
        stream = factories.deployed(
            session, "CE01ISSM-MFD35-03-CTDBPC000", kind, "failed", measured_rate=1 / 3
        )
        factories.history(session, stream, [("operational", "failed", now)])
        session.flush()
        session.execute(update(StatusHistory).values(elapsed=2 / 3 * 1000))
        ident = stream.id
    shown = client.get(f"/stream/{ident}").get_json()
    assert shown["measured_rate"] == 0.333333
    assert client.get(f"/stream/{ident}/history").get_json()["history"][0]["elapsed"] == 666.667


@pytest.mark.sqlite_only
def test_list_rows_hold_their_columns_in_the_order_the_serializer_unpacks(backend):
    """serializers.deployed_stream unpacks a row by position (queries.STREAM_COLUMNS)."""
    from ooi_status.api import queries

    assert tuple(queries._stream_select().selected_columns.keys()) == queries.STREAM_COLUMNS
