"""Port-agent messages: what is accepted, and the one reason each bad message is refused for."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status.port_counts import REASONS, BadMessage, PortCountRecord, parse_message

GOOD = {
    "reference_designator": "CE01ISSM-MFD35-04-ADCPTM000",
    "bytes_in": 41200,
    "bytes_out": 7,
    "end_time": 1796119331.5,
    "elapsed": 100,
    "adds": 2,
    "num_clients": {"client": 3},
}


def body(**changes: object) -> bytes:
    document = {**GOOD, **changes}
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def test_a_good_message():
    assert parse_message(body(extra="ignored")) == PortCountRecord(
        refdes="CE01ISSM-MFD35-04-ADCPTM000",
        end_time=datetime(2026, 12, 1, 10, 2, 11, 500000, tzinfo=UTC),
        elapsed=100.0,
        bytes_in=41200,
        bytes_out=7,
        adds=2,
        clients=3,
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"", "not_json"),
        (b'"text"', "not_object"),
        (b"null", "not_object"),
        (body(bytes_in=...), "missing_field"),
        (body(reference_designator=...), "missing_field"),
        (body(num_clients={"other": 1}), "missing_field"),
        (body(bytes_in="41200"), "wrong_type"),
        (body(bytes_in=1.5), "wrong_type"),
        (body(adds=None), "wrong_type"),
        (body(bytes_out=[1]), "wrong_type"),
        (body(end_time="2026-12-01"), "wrong_type"),
        (body(elapsed=False), "wrong_type"),
        (b'{"reference_designator": "A-B-C", "bytes_in": NaN, "bytes_out": 0, "end_time": 1, "elapsed": 1,'
         b' "adds": 0, "num_clients": {"client": 1}}', "wrong_type"),
        (body(num_clients=[1]), "wrong_type"),
        (body(num_clients={"client": "one"}), "wrong_type"),
        (body(reference_designator=["x"]), "wrong_type"),
        (body(bytes_in=-1), "negative_value"),
        (body(end_time=-5), "negative_value"),
        (body(elapsed=-0.001), "negative_value"),
        (body(num_clients={"client": -1}), "negative_value"),
        (body(reference_designator=""), "out_of_range"),
        (body(reference_designator="   "), "out_of_range"),
        (body(reference_designator="X" * 101), "out_of_range"),
        (body(bytes_in=2**63), "out_of_range"),
        (body(end_time=253402300800), "out_of_range"),
    ],
)  # fmt: skip
def test_bad_messages_have_one_reason(raw, reason):
    with pytest.raises(BadMessage) as caught:
        parse_message(raw)
    assert caught.value.reason == reason
    assert caught.value.detail


def test_integral_floats_are_counts():
    assert parse_message(body(bytes_in=12.0)).bytes_in == 12


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_refuse_with_a_known_reason(raw):
    try:
        parse_message(raw)
    except BadMessage as exc:
        assert exc.reason in REASONS
