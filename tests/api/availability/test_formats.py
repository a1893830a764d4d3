"""format=csv|tsv|svg of /available, and its caching headers."""

from __future__ import annotations

import csv
import io
import time
import xml.etree.ElementTree as ET

import pytest

from api.availability.conftest import NO_DEPLOYMENT, REFDES

SVG = "{http://www.w3.org/2000/svg}"
QUERIES = ["", "method=streamed", "start_time=2016-01-20&stop_time=2016-01-26", "stop_time=2015-01-01"]


def json_spans(client, query: str = "") -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    document = client.get(f"/available/{REFDES}?{query}").get_json()
    return [
        (m["measure"], start, label, stop)
        for m in document["availability"]
        for start, label, stop in m["data"]
    ]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    ("fmt", "delimiter", "content_type"),
    [("csv", ",", "text/csv; charset=utf-8"), ("tsv", "\t", "text/tab-separated-values; charset=utf-8")],
)
def test_csv_and_tsv_round_trip_to_the_spans_of_the_json(client, query, fmt, delimiter, content_type):
    response = client.get(f"/available/{REFDES}?format={fmt}&{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert f"{REFDES}-availability.{fmt}" in response.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=delimiter))
    assert header == ["measure", "start", "category", "stop"]
    assert [tuple(row) for row in rows] == json_spans(client, query)


def test_csv_lines_end_with_crlf_and_tsv_lines_with_lf(client):
    assert client.get(f"/available/{REFDES}?format=csv").data.startswith(b"measure,start,category,stop\r\n")
    assert client.get(f"/available/{REFDES}?format=tsv").data.startswith(b"measure\tstart\tcategory\tstop\n")


def test_format_is_case_insensitive_and_json_by_default(client):
    assert (
        client.get(f"/available/{REFDES}?format=CSV").data
        == client.get(f"/available/{REFDES}?format=csv").data
    )
    assert client.get(f"/available/{REFDES}?format=json").data == client.get(f"/available/{REFDES}").data


@pytest.mark.parametrize("query", QUERIES)
def test_svg_parses_and_has_one_rect_per_span_plus_background_and_legend(client, query):
    response = client.get(f"/available/{REFDES}?format=svg&{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    rects = list(root.iter(f"{SVG}rect"))
    spans = json_spans(client, query)
    by_class = {
        name: [r for r in rects if r.get("class") == name] for name in ("background", "span", "legend")
    }
    assert len(by_class["span"]) == len(spans)
    assert len(by_class["background"]) == 1
    assert len(by_class["legend"]) == 6  # the six categories of a stream row
    assert len(rects) == len(spans) + 1 + 6
    for rect, (measure, start, label, stop) in zip(by_class["span"], spans, strict=True):
        tip = rect.find(f"{SVG}title").text
        assert start in tip and stop in tip and label in tip
        assert measure in tip or measure == "Deployments"


def test_svg_has_a_row_label_per_measure_dated_axis_and_legend_labels(client):
    root = ET.fromstring(client.get(f"/available/{REFDES}?format=svg").data)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for name in ("Deployments", "streamed ctdbp_no_sample", "telemetered ctdbp_no_sample"):
        assert name in texts
    for label in (
        "Present",
        "Missing",
        "Not Expected",
        "Sparsity Level 1",
        "Sparsity Level 2",
        "Sparsity Level 3",
    ):
        assert label in texts
    assert "2016-01-04" in texts  # weekly ticks over 40 days, on Mondays
    assert REFDES in texts
    assert "2016-01-01 00:00:00 – 2016-02-10 00:00:00 UTC" in texts


def test_svg_of_an_instrument_without_deployments(client):
    root = ET.fromstring(client.get(f"/available/{NO_DEPLOYMENT}?format=svg").data)
    assert "Deployments" not in [t.text for t in root.iter(f"{SVG}text")]
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "span"]) == 2


# --- caching -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "svg"])
def test_etag_and_cache_control_then_304_on_a_matching_if_none_match(client, fmt):
    first = client.get(f"/available/{REFDES}?format={fmt}")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and len(etag) > 10  # weak: gzip and plain bodies share it
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(f"/available/{REFDES}?format={fmt}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=60"
    stale = client.get(f"/available/{REFDES}?format={fmt}", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_etag_differs_between_formats_and_windows(client):
    tags = {
        client.get(f"/available/{REFDES}?{query}").headers["ETag"]
        for query in ("", "format=csv", "format=svg", "start_time=2016-01-02", "method=streamed")
    }
    assert len(tags) == 5


def test_cache_seconds_come_from_the_settings(app, client):
    settings = app.extensions["ooi_status.settings"]
    app.extensions["ooi_status.settings"] = settings.replace(AVAILABILITY_CACHE_SECONDS=5)
    assert client.get(f"/available/{REFDES}").headers["Cache-Control"] == "public, max-age=5"


def test_errors_carry_no_etag(client):
    response = client.get(f"/available/{REFDES}?format=xml")
    assert response.status_code == 400
    assert "ETag" not in response.headers


# --- no local time anywhere --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "svg"])
def test_the_machine_time_zone_changes_nothing(client, monkeypatch, fmt):
    url = f"/available/{REFDES}?format={fmt}&start_time=2016-01-10T06:00:00"
    reference = client.get(url).data
    for zone in ("America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            assert client.get(url).data == reference, zone
        finally:
            monkeypatch.undo()
            time.tzset()
