"""The API's JSON encoder (ooi_status.api.encoder): the same JSON as the standard library's."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from ooi_status.api.encoder import FastJSONProvider, json_bytes


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    return app


@dataclasses.dataclass
class Point:
    x: int
    at: datetime


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_the_text_parses_to_what_the_standard_library_writes(value: object) -> None:
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    with app.app_context():
        body = json_bytes(value)
    # The same values, float for float (a float may be spelled otherwise: 1e-05 and 1e-5).
    assert json.loads(body) == json.loads(json.dumps(value))
    if not _has_float(value):
        assert body == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return isinstance(value, list) and any(_has_float(v) for v in value)


def test_keys_keep_their_order_and_the_body_is_compact(app: Flask) -> None:
    with app.app_context():
        assert json_bytes({"b": 1, "a": [1.5, None, "é"]}) == '{"b":1,"a":[1.5,null,"é"]}'.encode()


def test_what_orjson_does_not_write_itself_is_written_as_flask_writes_it(app: Flask) -> None:
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with app.app_context():
        body = json.loads(json_bytes({"at": at, "point": Point(1, at), "n": Decimal("1.25"), 3: "x"}))
    assert body == {
        "at": "Thu, 02 Jan 2025 03:04:05 GMT",
        "point": {"x": 1, "at": "Thu, 02 Jan 2025 03:04:05 GMT"},
        "n": "1.25",
        "3": "x",
    }


def test_an_integer_beyond_64_bits_is_written_by_the_standard_library(app: Flask) -> None:
    with app.app_context():
        assert json_bytes({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_an_unknown_type_is_a_type_error(app: Flask) -> None:
    with app.app_context(), pytest.raises(TypeError):
        json_bytes({"x": object()})


def test_jsonify_answers_compact_json_with_a_newline_and_indented_in_debug(app: Flask) -> None:
    with app.test_request_context():
        response = app.json.response({"a": 1, "b": [1, 2]})
        assert response.mimetype == "application/json"
        assert response.get_data() == b'{"a":1,"b":[1,2]}\n'
        app.debug = True
        assert json.loads(app.json.response({"a": 1}).get_data()) == {"a": 1}
        assert b"\n  " in app.json.response({"a": 1}).get_data()
