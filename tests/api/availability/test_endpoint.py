"""GET /available/<refdes>: the JSON document, filters, windows and errors (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from api.availability.conftest import NO_DEPLOYMENT, NO_STREAM, NOW, REFDES, UNKNOWN, at
from ooi_status.api import create_app, current_databases
from ooi_status.model.metadata import PartitionMetadata, StreamMetadata

EXPECTED = Path(__file__).resolve().parents[2] / "data" / "availability_scenario.json"


def measures(response) -> dict[str, list[list[str]]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return {m["measure"]: m["data"] for m in response.get_json()["availability"]}


def test_scenario_matches_the_stored_expected_document_field_by_field(client):
    expected = json.loads(EXPECTED.read_text())["availability"]
    response = client.get(f"/available/{REFDES}")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    got = response.get_json()
    assert list(got) == ["availability"]
    got = got["availability"]
    assert [m["measure"] for m in got] == [m["measure"] for m in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert list(mine) == ["measure", "categories", "data"]
        assert mine["categories"] == theirs["categories"], mine["measure"]
        assert list(mine["categories"]) == list(theirs["categories"]), mine["measure"]
        for index, (row, expected_row) in enumerate(zip(mine["data"], theirs["data"], strict=True)):
            assert row == expected_row, f"{mine['measure']} span {index}"


def test_deployments_first_then_streams_by_method_and_stream(client):
    names = list(measures(client.get(f"/available/{REFDES}")))
    assert names == [
        "Deployments",
        "recovered_host ctdbp_no_hardware",
        "streamed ctdbp_no_sample",
        "telemetered ctdbp_no_sample",
    ]


def test_default_leaves_out_methods_starting_with_bad_but_an_exact_method_shows_them(client):
    assert not any(m.startswith("bad") for m in measures(client.get(f"/available/{REFDES}")))
    got = measures(client.get(f"/available/{REFDES}?method=bad_streamed"))
    assert list(got) == ["Deployments", "bad_streamed ctdbp_no_sample"]
    assert got["bad_streamed ctdbp_no_sample"][0] == ["2016-01-01 00:00:00", "Missing", "2016-01-01 00:01:00"]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("method=streamed", ["streamed ctdbp_no_sample"]),
        ("method=stream", []),  # exact, not a substring
        ("stream=ctdbp_no_sample", ["streamed ctdbp_no_sample", "telemetered ctdbp_no_sample"]),
        ("stream=ctdbp_no", []),
        ("method=telemetered&stream=ctdbp_no_sample", ["telemetered ctdbp_no_sample"]),
        ("method=telemetered&stream=ctdbp_no_hardware", []),
        (
            "method=&stream=",
            ["recovered_host ctdbp_no_hardware", "streamed ctdbp_no_sample", "telemetered ctdbp_no_sample"],
        ),
    ],
)
def test_method_and_stream_filters_are_exact(client, query, shown):
    got = measures(client.get(f"/available/{REFDES}?{query}"))
    assert list(got) == ["Deployments", *shown]


def test_one_stream_gives_the_same_spans_as_in_the_full_document(client):
    full = measures(client.get(f"/available/{REFDES}"))
    one = measures(client.get(f"/available/{REFDES}?method=streamed&stream=ctdbp_no_sample"))
    assert one == {k: full[k] for k in ("Deployments", "streamed ctdbp_no_sample")}


def test_stream_without_bins_is_not_expected_over_the_window(client):
    got = measures(client.get(f"/available/{REFDES}?start_time=2016-01-02&stop_time=2016-01-03"))
    assert got["recovered_host ctdbp_no_hardware"] == [
        ["2016-01-02 00:00:00", "Not Expected", "2016-01-03 00:00:00"]
    ]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "start_time", ["2016-01-26", "2016-01-26T00:00:00", "2016-01-26T00:00:00Z", "2016-01-26T01:00:00%2B01:00"]
)
def test_start_time_formats(client, start_time):
    got = measures(client.get(f"/available/{REFDES}?start_time={start_time}"))
    assert got["Deployments"] == [["2016-01-26 00:00:00", "Deployment: 2", "2016-02-10 00:00:00"]]
    assert got["streamed ctdbp_no_sample"] == [
        ["2016-01-26 00:00:00", "Missing", "2016-01-26 00:01:00"],  # the bin of 01-25 ends before
        ["2016-01-26 00:01:00", "Present", "2016-02-09 23:59:00"],
        ["2016-02-09 23:59:00", "Missing", "2016-02-10 00:00:00"],
    ]


def test_window_given_by_start_and_stop_time(client):
    got = measures(client.get(f"/available/{REFDES}?start_time=2016-01-11T12:00:00&stop_time=2016-01-23"))
    assert got["Deployments"] == [["2016-01-11 12:00:00", "Deployment: 1", "2016-01-21 00:00:00"]]
    assert got["streamed ctdbp_no_sample"][:2] == [
        ["2016-01-11 12:00:00", "Sparsity Level 3", "2016-01-11 23:59:00"],
        ["2016-01-11 23:59:00", "Present", "2016-01-13 00:01:00"],
    ]
    assert got["streamed ctdbp_no_sample"][-1] == [
        "2016-01-21 00:00:00",
        "Not Expected",
        "2016-01-23 00:00:00",
    ]


def test_stop_time_in_the_future_is_clamped_to_now(client):
    future = measures(client.get(f"/available/{REFDES}?stop_time=2030-01-01"))
    assert future == measures(client.get(f"/available/{REFDES}"))
    assert future["Deployments"][-1] == ["2016-01-25 00:00:00", "Deployment: 2", "2016-02-10 00:00:00"]


def test_open_deployment_runs_to_now(client):
    got = measures(client.get(f"/available/{NO_STREAM}"))
    assert got == {"Deployments": [["2016-01-01 00:00:00", "Deployment: 1", "2016-02-10 00:00:00"]]}


def test_instrument_without_deployments_has_no_deployments_row_and_starts_at_its_first_point(client):
    got = measures(client.get(f"/available/{NO_DEPLOYMENT}"))
    assert got == {
        "streamed ctdpf_optode_sample": [
            ["2016-01-01 00:01:00", "Present", "2016-01-15 23:59:00"],
            ["2016-01-15 23:59:00", "Missing", "2016-02-10 00:00:00"],
        ]
    }


def test_window_outside_every_deployment_shows_the_streams_without_spans(client):
    got = measures(client.get(f"/available/{REFDES}?stop_time=2015-06-01"))
    assert got == {
        "recovered_host ctdbp_no_hardware": [],
        "streamed ctdbp_no_sample": [],
        "telemetered ctdbp_no_sample": [],
    }


def test_unknown_query_arguments_are_ignored(client):
    assert (
        client.get(f"/available/{REFDES}?_=1700000000&foo=bar").data
        == client.get(f"/available/{REFDES}").data
    )


# --- errors ------------------------------------------------------------------------------------


def assert_error(response, status: int, *names: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message"}
    for name in names:
        assert name in body["message"]
    assert b"<html" not in response.data.lower() and b"Traceback" not in response.data


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "refdes",
    [
        "CE04OSBP-LJ01C-06-CTD%00",
        "CE04OSBP",
        "CE04OSBP-LJ01C",
        "CE04OSBP--06-CTDBPO108",
        "-LJ01C-06",
        "A" * 17 + "-B-C",
    ],
)
def test_malformed_refdes_is_400(client, refdes):
    assert_error(client.get(f"/available/{refdes}"), 400, "refdes")


def test_unknown_refdes_is_404(client):
    assert_error(client.get(f"/available/{UNKNOWN}"), 404, "refdes", UNKNOWN)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("start_time=yesterday", "start_time"),
        ("start_time=2016-13-01", "start_time"),
        ("start_time=2016-01-01T25:00:00", "start_time"),
        ("stop_time=1451606400", "stop_time"),
        ("stop_time=2016/01/01", "stop_time"),
        ("start_time=2016-01-01&stop_time=2016-01-01", "start_time/stop_time"),
        ("start_time=2016-01-05&stop_time=2016-01-01", "start_time/stop_time"),
        ("start_time=2020-01-01", "start_time/stop_time"),  # after now: empty once stop is clamped
        ("format=xml", "format"),
        ("format=html", "format"),
        ("method=streamed&method=telemetered", "method"),
        ("stream=ctdbp%00", "stream"),
    ],
)
def test_bad_arguments_are_400_naming_the_parameter(client, query, name):
    assert_error(client.get(f"/available/{REFDES}?{query}"), 400, name)


def test_metadata_database_unreachable_is_503_json(settings):
    app = create_app(
        settings.replace(METADATA_URL="postgresql+psycopg2://postgres@127.0.0.1:1/metadata"),
        TESTING=True,
        CLOCK=lambda: NOW,
    )
    response = app.test_client().get(f"/available/{REFDES}")
    # The one error handler of the app: the message says what did not answer.
    assert_error(response, 503, "metadata database PostgreSQL 127.0.0.1:1/metadata", "try again shortly")
    assert response.get_json()["error"] == "source_unavailable"
    with app.app_context():
        current_databases().dispose()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_http_methods_are_405_json(client, method):
    assert_error(client.open(f"/available/{REFDES}", method=method), 405)


@pytest.mark.sqlite_only
def test_a_path_below_the_refdes_is_404_json(client):
    assert_error(client.get(f"/available/{REFDES}/extra"), 404)


# --- bins kept between requests ----------------------------------------------------------------


def test_new_data_shows_at_once_when_the_stream_row_changes(client, scenario_db):
    before = measures(client.get(f"/available/{REFDES}?method=telemetered"))["telemetered ctdbp_no_sample"]
    key = {"subsite": "CE04OSBP", "node": "LJ01C", "sensor": "06-CTDBPO108", "method": "telemetered"}
    with scenario_db.engine.begin() as conn:
        row = {**key, "stream": "ctdbp_no_sample", "store": "cass", "bin": int(at(38))}
        conn.execute(
            insert(PartitionMetadata),
            [{**row, "id": 10_000, "count": 100, "first": at(38), "last": at(38, 12)}],
        )
        conn.execute(
            update(StreamMetadata)
            .where(*(getattr(StreamMetadata, k) == v for k, v in key.items()))
            .values(count=StreamMetadata.count + 100, last=at(38, 12))
        )
    after = measures(client.get(f"/available/{REFDES}?method=telemetered"))["telemetered ctdbp_no_sample"]
    assert after != before
    assert ["2016-02-08 00:00:00", "Present", "2016-02-08 12:00:00"] in after
