"""The text forms of a timeline (visavail JSON, CSV/TSV) and the SVG axis, without a database."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status.availability.engine import (
    Bin,
    Deployment,
    Rules,
    Span,
    StreamTimeline,
    Timeline,
    Window,
    stream_spans,
)
from ooi_status.availability.report import (
    Style,
    delimited,
    span_records,
    stream_rows,
    timestamp_text,
    timestamp_texts,
    visavail,
)
from ooi_status.availability.svg import axis_ticks, render_svg
from ooi_status.config import load_settings
from ooi_status.sources.base import BinRow
from ooi_status.times import datetime_to_ntp, format_ntp

T0 = datetime_to_ntp(datetime(2016, 1, 1, tzinfo=UTC))
DAY = 86_400.0
STYLE = Style.from_settings(load_settings(environ={}))


@given(st.floats(0, 2**34, allow_nan=False))
def test_timestamp_text_is_format_ntp(ntp):
    assert timestamp_text(ntp) == format_ntp(ntp)


@pytest.mark.parametrize(
    ("ntp", "text"),
    [
        (0.0, "1900-01-01 00:00:00"),
        (T0, "2016-01-01 00:00:00"),
        (T0 - 0.5, "2015-12-31 23:59:59"),  # truncated, never rounded up
        (T0 + 59.999999, "2016-01-01 00:00:59"),
        (T0 + 59 * DAY + 3723, "2016-02-29 01:02:03"),
    ],
)
def test_timestamp_text_examples(ntp, text):
    assert timestamp_text(ntp) == text
    assert timestamp_texts([ntp, ntp]) == [text, text]


@given(st.lists(st.floats(-(2**33), 2**36, allow_nan=False)))
def test_timestamp_texts_are_timestamp_text_of_each(times):
    assert timestamp_texts(times) == [timestamp_text(t) for t in times]


@given(
    st.lists(
        st.tuples(
            st.floats(0, 2**33),
            st.floats(0, 2**33),
            st.sampled_from(["present", "missing", "sparse2", "not_a_category"]),
        )
    ),
    st.booleans(),
)
def test_stream_rows_are_each_spans_start_label_and_stop(pieces, tiled):
    if tiled:  # as the engine makes them: each stop is the next start
        pieces = [(start, nxt[0], c) for (start, _, c), nxt in zip(pieces, pieces[1:], strict=False)]
    spans = [Span(start, stop, category) for start, stop, category in pieces]
    labels = STYLE.labels
    expected = [
        [timestamp_text(s.start), labels.get(s.category, s.category), timestamp_text(s.stop)] for s in spans
    ]
    assert stream_rows(spans, STYLE) == expected


def timeline(deployments=(), streams=()) -> Timeline:  # type: ignore[no-untyped-def]
    return Timeline(
        "CE04OSBP-LJ01C-06-CTDBPO108", Window(T0, T0 + 10 * DAY), list(deployments), list(streams)
    )


def test_deployment_colors_alternate_by_position_not_by_number():
    doc = visavail(
        timeline([(T0, T0 + DAY, 3), (T0 + DAY, T0 + 2 * DAY, 5), (T0 + 3 * DAY, T0 + 4 * DAY, 6)]), STYLE
    )
    (row,) = doc["availability"]
    assert row["measure"] == "Deployments"
    assert row["categories"] == {
        "Deployment: 3": {"color": "#0073cf"},
        "Deployment: 5": {"color": "#cf5c00"},
        "Deployment: 6": {"color": "#0073cf"},
    }
    assert row["data"][1] == ["2016-01-02 00:00:00", "Deployment: 5", "2016-01-03 00:00:00"]


def test_no_deployment_no_deployments_element_and_every_label_in_each_stream():
    rows = [
        StreamTimeline(
            "streamed", "a", [Span(T0, T0 + DAY, "present"), Span(T0 + DAY, T0 + 2 * DAY, "sparse2")]
        )
    ]
    (row,) = visavail(timeline(streams=rows), STYLE)["availability"]
    assert row["measure"] == "streamed a"
    assert list(row["categories"]) == [
        "Missing",
        "Not Expected",
        "Present",
        "Sparsity Level 1",
        "Sparsity Level 2",
        "Sparsity Level 3",
    ]
    assert row["categories"]["Sparsity Level 2"] == {"color": "#90d890"}
    assert row["data"] == [
        ["2016-01-01 00:00:00", "Present", "2016-01-02 00:00:00"],
        ["2016-01-02 00:00:00", "Sparsity Level 2", "2016-01-03 00:00:00"],
    ]


def test_labels_colors_and_deployment_label_come_from_the_settings():
    settings = load_settings(
        environ={},
        overrides={
            "AVAILABILITY_LABELS": {"present": "Data", "missing": "Gap", "not_expected": "Off"},
            "AVAILABILITY_COLORS": {"Data": "#00ff00", "Gap": "#ff0000"},
            "DEPLOYMENT_LABEL": "D{number}",
            "DEPLOYMENT_COLORS": ["#111111", "#222222", "#333333"],
        },
    )
    style = Style.from_settings(settings)
    rows = [StreamTimeline("streamed", "a", [Span(T0, T0 + DAY, "missing")])]
    deployments = [(T0, T0 + DAY, 1), (T0 + DAY, T0 + 2 * DAY, 2), (T0 + 2 * DAY, T0 + 3 * DAY, 3)]
    deployment_row, stream_row = visavail(timeline(deployments, rows), style)["availability"]
    assert [c["color"] for c in deployment_row["categories"].values()] == ["#111111", "#222222", "#333333"]
    assert deployment_row["data"][0][1] == "D1"
    assert stream_row["categories"] == {
        "Data": {"color": "#00ff00"},
        "Gap": {"color": "#ff0000"},
        "Off": {"color": "#cccccc"},  # a label without a color gets a neutral one
    }
    assert stream_row["data"] == [["2016-01-01 00:00:00", "Gap", "2016-01-02 00:00:00"]]


def test_csv_quotes_what_needs_quoting_and_round_trips():
    rows = [StreamTimeline("streamed", 'odd,"name"', [Span(T0, T0 + DAY, "present")])]
    tl = timeline([(T0, T0 + DAY, 1)], rows)
    for delimiter in (",", "\t"):
        parsed = list(csv.reader(io.StringIO(delimited(tl, STYLE, delimiter)), delimiter=delimiter))
        assert parsed == [["measure", "start", "category", "stop"], *map(list, span_records(tl, STYLE))]
    assert list(span_records(tl, STYLE))[1] == (
        'streamed odd,"name"',
        "2016-01-01 00:00:00",
        "Present",
        "2016-01-02 00:00:00",
    )


def test_svg_escapes_names_and_draws_an_empty_timeline():
    rows = [StreamTimeline("streamed", "<a&b>", [])]
    empty = Timeline("CE04OSBP-LJ01C-06-CTDBPO108", None, [], rows)
    text = render_svg(empty, STYLE)
    assert "&lt;a&amp;b&gt;" in text and "<a&b>" not in text
    assert 'class="span"' not in text


@pytest.mark.parametrize(
    ("length", "most", "fmt", "step"),
    [
        (3600.0, 7, "%Y-%m-%d %H:%M", 900.0),
        (1.5 * DAY, 7, "%Y-%m-%d %H:%M", 6 * 3600.0),
        (40 * DAY, 7, "%Y-%m-%d", 7 * DAY),
        (300 * DAY, 7, "%Y-%m", None),
        (3653 * DAY, 7, "%Y", None),
        (36525 * DAY, 7, "%Y", None),
    ],
)
def test_axis_ticks_are_round_moments_inside_the_window(length, most, fmt, step):
    start = T0 + 1234.5
    ticks, label_format = axis_ticks(start, start + length, most)
    assert label_format == fmt
    assert 1 <= len(ticks) <= most
    assert all(start <= t <= start + length for t in ticks)
    if step is not None:
        assert all(t % step == 0 for t in ticks)
        assert {b - a for a, b in zip(ticks, ticks[1:], strict=False)} <= {step}
    else:
        for tick in ticks:
            moment = datetime(1900, 1, 1, tzinfo=UTC).timestamp() + tick
            assert datetime.fromtimestamp(moment, UTC).strftime("%d %H:%M:%S") == "01 00:00:00"


def test_the_engine_takes_source_rows_as_bins():
    rng = random.Random(5)
    bins = []
    for k in range(60):
        if rng.random() < 0.1:
            continue
        first = T0 + k * DAY + rng.uniform(0, 100)
        bins.append(
            BinRow(
                int(T0 + k * DAY), rng.choice([86_400, 20_000, 1]), first, first + rng.uniform(10, DAY - 200)
            )
        )
    deployments = [Deployment(1, T0, T0 + 30 * DAY), Deployment(2, T0 + 31 * DAY, None)]
    window = Window(T0, T0 + 60 * DAY)
    as_bins = [Bin(row.first, row.last, row.points) for row in bins]
    shuffled = bins[::-1]
    expected = stream_spans(as_bins, deployments, window, Rules())
    assert stream_spans(bins, deployments, window, Rules()) == expected
    assert stream_spans(shuffled, deployments, window, Rules()) == expected
    assert len(expected) > 5
