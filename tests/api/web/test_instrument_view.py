"""The instrument view in a real browser: streams, status history, and the operator's writes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from api.web.conftest import PHONE, Site

pytestmark = pytest.mark.slow

LABELS = {
    "operational": "Operational",
    "degraded": "Degraded",
    "failed": "Failed",
    "notTracked": "Not tracked",
}


def refdes_of(site: Site, stream_id: int) -> str:
    return next(r for r, streams in site.seeded.statuses.items() if stream_id in streams)


def open_instrument(page: Any, site: Site, refdes: str, query: str = "") -> None:
    page.goto(f"{site.url}/ui/instrument/{refdes}{query}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")


def row(stream_id: int) -> str:
    return f'#stream-rows tr[data-id="{stream_id}"]'


def enter_key(page: Any, key: str) -> None:
    page.click("#operator-key-button")
    page.fill("#key-input", key)
    page.click('#key-form button[value="save"]')
    page.wait_for_selector("#key-dialog", state="hidden")


def test_streams_show_status_data_age_and_intervals(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.degraded_id)
    open_instrument(page, site, refdes)
    streams = site.seeded.statuses[refdes]
    shown = page.eval_on_selector_all(
        "#stream-rows tr", "rows => rows.map(r => [+r.dataset.id, r.dataset.status])"
    )
    assert dict(shown) == streams
    degraded = page.eval_on_selector_all(
        f"{row(site.seeded.degraded_id)} td", "cells => cells.map(c => c.textContent.trim())"
    )
    method, name = site.seeded.names[site.seeded.degraded_id]
    assert degraded[:3] == [name, method, "Degraded"]
    assert degraded[4].endswith(" ago")
    # Effective intervals of the expected stream, no override.
    expected = site.get_json(f"/stream/{site.seeded.degraded_id}")["expected_stream"]
    warn = page.get_attribute(f'{row(site.seeded.degraded_id)} td[data-field="warn_interval"]', "title")
    assert warn.startswith(f"{expected['warn_interval']} s")
    assert page.locator(f"{row(site.seeded.degraded_id)} .override").count() == 0
    summary = page.text_content("#instrument-summary")
    assert summary.startswith(LABELS["failed"]) and f"{len(streams)} monitored streams" in summary


def test_overrides_are_marked(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.disabled_id)
    open_instrument(page, site, refdes)
    disabled = row(site.seeded.disabled_id)
    assert page.locator(f"{disabled} .override").count() == 3
    assert page.text_content(f'{disabled} td[data-field="fail_interval"]') == "offoverride"
    assert page.is_visible(f'{disabled} button[data-action="enable"]')


def test_recent_status_changes_of_every_stream(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.failed_id)
    open_instrument(page, site, refdes)
    page.wait_for_selector("#history-rows tr")
    expected = [
        (entry["changed_at"][:16], site.seeded.names[stream_id][1], entry["new_status"])
        for stream_id in site.seeded.statuses[refdes]
        for entry in site.get_json(f"/stream/{stream_id}/history")["history"]
    ]
    shown = page.eval_on_selector_all(
        "#history-rows tr",
        "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent,"
        " r.cells[3].querySelector('.badge:last-child').className])",
    )
    assert sorted((when, name) for when, name, _ in shown) == sorted((w, n) for w, n, _ in expected)
    assert [when for when, _, _ in shown] == sorted((when for when, _, _ in shown), reverse=True)
    assert all(
        badge.endswith(f"status-{status}")
        for (_, _, badge), (_, _, status) in zip(sorted(shown), sorted(expected), strict=True)
    )


def test_disable_and_enable_with_a_valid_key(page: Any, site: Site) -> None:
    stream_id = site.seeded.degraded_id
    open_instrument(page, site, refdes_of(site, stream_id))
    writes: list[Any] = []
    page.on("request", lambda request: writes.append(request) if request.method == "PUT" else None)
    enter_key(page, site.write_key)
    assert page.text_content("#operator-state") == "Operator key set for this tab"

    page.click(f'{row(stream_id)} button[data-action="disable"]')
    page.fill("#disable-reason", "sensor swap")
    page.click("#disable-confirm")
    page.wait_for_selector(f'{row(stream_id)} button[data-action="enable"]')
    assert page.locator(f"{row(stream_id)} .override").count() == 3
    assert "is no longer tracked" in page.text_content("#streams-notice")
    after = site.get_json(f"/stream/{stream_id}")
    assert (after["expected_rate"], after["warn_interval"], after["fail_interval"]) == (0, 0, 0)

    page.click(f'{row(stream_id)} button[data-action="enable"]')
    page.wait_for_selector(f'{row(stream_id)} button[data-action="disable"]')
    assert page.locator(f"{row(stream_id)} .override").count() == 0
    after = site.get_json(f"/stream/{stream_id}")
    assert (after["expected_rate"], after["warn_interval"], after["fail_interval"]) == (None, None, None)

    # The key went as a header, and nowhere else: not in a URL, not in a cookie.
    assert [w.url.rsplit("/", 1)[-1] for w in writes] == ["disable", "enable"]
    assert all(w.headers.get("x-api-key") == site.write_key for w in writes)
    assert all(site.write_key not in w.url for w in writes)
    assert page.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("sessionStorage.getItem('ooi_status.apiKey')") == site.write_key
    assert page.evaluate("localStorage.length") == 0


def test_a_wrong_key_is_refused_at_once_and_the_header_stays_read_only(page: Any, site: Site) -> None:
    stream_id = site.seeded.degraded_id
    open_instrument(page, site, refdes_of(site, stream_id))
    page.click("#operator-key-button")
    page.fill("#key-input", "not-the-key")
    page.click('#key-form button[value="save"]')
    page.wait_for_selector("#key-error", state="visible")
    assert (
        page.text_content("#key-error")
        == "checking a key refused: this API key is not one of the configured keys"
    )
    assert page.is_visible("#key-dialog")
    assert page.text_content("#operator-state") == "Read only"
    assert page.evaluate("sessionStorage.getItem('ooi_status.apiKey')") is None
    # The right key is then taken, and named.
    page.fill("#key-input", site.write_key)
    page.click('#key-form button[value="save"]')
    page.wait_for_selector("#key-dialog", state="hidden")
    assert page.text_content("#operator-state") == "Operator key set for this tab"
    assert page.get_attribute("#operator-state", "title") == "Writes are made as ops"
    assert site.get_json(f"/stream/{stream_id}")["warn_interval"] is None


def test_a_write_without_a_key_asks_for_one_first(page: Any, site: Site) -> None:
    stream_id = site.seeded.degraded_id
    open_instrument(page, site, refdes_of(site, stream_id))
    page.click(f'{row(stream_id)} button[data-action="disable"]')
    page.fill("#disable-reason", "sensor swap")
    page.click("#disable-confirm")
    page.wait_for_selector("#key-dialog", state="visible")
    assert page.evaluate("document.activeElement.id") == "key-input"
    page.keyboard.press("Escape")
    page.wait_for_selector("#key-dialog", state="hidden")
    assert site.get_json(f"/stream/{stream_id}")["warn_interval"] is None
    # Asked again, the key given goes with the write that asked for it.
    page.click("#disable-confirm")
    page.fill("#key-input", site.write_key)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{row(stream_id)} button[data-action="enable"]')


def test_edit_intervals_and_see_the_api_errors(page: Any, site: Site) -> None:
    stream_id = site.seeded.failed_id
    open_instrument(page, site, refdes_of(site, stream_id))
    enter_key(page, site.write_key)
    page.click(f'{row(stream_id)} button[data-action="edit"]')
    page.wait_for_selector("#edit-dialog", state="visible")
    expected = site.get_json(f"/stream/{stream_id}")["expected_stream"]
    # The dialog speaks the table's units.
    shown_default = page.text_content(f'{row(stream_id)} td[data-field="warn_interval"]')
    assert (
        page.get_attribute('#edit-form input[name="warn_interval"]', "placeholder")
        == f"default: {shown_default}"
    )
    assert expected["warn_interval"] > 0
    page.fill('#edit-form input[name="warn_interval"]', "-5")
    page.click('#edit-form button[value="save"]')
    page.wait_for_selector("#edit-error", state="visible")
    assert "warn_interval" in page.text_content("#edit-error")
    assert site.get_json(f"/stream/{stream_id}")["warn_interval"] is None

    page.fill('#edit-form input[name="warn_interval"]', "900")
    page.click('#edit-form button[value="save"]')
    page.wait_for_selector("#edit-dialog", state="hidden")
    cell = f'{row(stream_id)} td[data-field="warn_interval"]'
    assert page.text_content(cell) == "15 minoverride"
    after = site.get_json(f"/stream/{stream_id}")
    assert (after["expected_rate"], after["warn_interval"], after["fail_interval"]) == (None, 900, None)

    page.click(f'{row(stream_id)} button[data-action="edit"]')
    page.click("#edit-defaults")
    page.click('#edit-form button[value="save"]')
    page.wait_for_selector("#edit-dialog", state="hidden")
    assert site.get_json(f"/stream/{stream_id}")["warn_interval"] is None


def test_where_reads_need_a_key_the_whole_view_opens_with_one(page: Any, locked_site: Site) -> None:
    refdes = refdes_of(locked_site, locked_site.seeded.failed_id)
    page.goto(f"{locked_site.url}/ui/instrument/{refdes}")
    page.wait_for_selector("#streams-error", state="visible")
    page.click("#operator-key-button")
    page.fill("#key-input", locked_site.write_key)
    page.keyboard.press("Enter")
    page.wait_for_selector('#timeline[aria-busy="false"] svg')
    page.wait_for_selector("#history-rows tr")
    assert page.locator("#stream-rows tr").count() == len(locked_site.seeded.statuses[refdes])
    assert page.is_hidden("#streams-error") and page.is_hidden("#timeline-error")


def test_readable_at_phone_width(page: Any, site: Site, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    open_instrument(page, site, refdes_of(site, site.seeded.failed_id))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "instrument-view-phone.png"), full_page=True)


def test_back_link_returns_to_the_filtered_fleet(page: Any, site: Site) -> None:
    page.goto(f"{site.url}/?status=failed")
    page.wait_for_selector("#fleet-rows tr a")
    page.click("#fleet-rows tr a")
    page.wait_for_selector("#stream-rows tr")
    page.click("#back-to-fleet")
    page.wait_for_url("**/?status=failed")


# --- the availability timeline -----------------------------------------------------------------
#
# The page's drawing is compared with the JSON of /available that the page itself received:
# the last span of an open deployment ends "now", so a second request a moment later may differ.


def timeline_answer(page: Any, refdes: str, action: Any) -> tuple[str, list[dict[str, Any]]]:
    """Do ``action``; the query and availability of the /available request it made."""

    def is_timeline(response: Any) -> bool:
        return f"/available/{refdes}" in response.url and "format=" not in response.url

    with page.expect_response(is_timeline) as answer:
        action()
    response = answer.value
    assert response.status == 200
    return urlsplit(response.url).query, response.json()["availability"]


def open_timeline(page: Any, site: Site, refdes: str, query: str = "") -> list[dict[str, Any]]:
    _, availability = timeline_answer(page, refdes, lambda: open_instrument(page, site, refdes, query))
    return availability


def drawn_rows(page: Any) -> list[list[Any]]:
    page.wait_for_selector('#timeline[aria-busy="false"] svg')
    return page.eval_on_selector_all(
        "#timeline g.tl-row",
        "rows => rows.map(g => [g.dataset.measure, g.querySelectorAll('rect.tl-span').length])",
    )


def expected_rows(availability: list[dict[str, Any]]) -> list[list[Any]]:
    return [[element["measure"], len(element["data"])] for element in availability]


def test_timeline_draws_one_row_per_stream_with_every_span(page: Any, site: Site, screenshots: Path) -> None:
    for refdes in sorted(site.seeded.statuses):
        availability = open_timeline(page, site, refdes)
        assert availability[0]["measure"] == "Deployments"
        assert len(availability) > 1, refdes
        assert [e["measure"] for e in availability] == [
            e["measure"] for e in site.get_json(f"/available/{refdes}")["availability"]
        ]
        assert drawn_rows(page) == expected_rows(availability), refdes
    open_timeline(page, site, refdes_of(site, site.seeded.failed_id))
    page.wait_for_selector("#history-rows tr")
    drawn_rows(page)
    page.screenshot(path=str(screenshots / "instrument-view.png"), full_page=True)


def test_legend_names_the_six_categories(page: Any, site: Site) -> None:
    open_instrument(page, site, refdes_of(site, site.seeded.failed_id))
    legend = page.eval_on_selector_all("#legend li", "items => items.map(i => i.textContent.trim())")
    assert legend[:6] == [
        "Present",
        "Sparsity Level 1",
        "Sparsity Level 2",
        "Sparsity Level 3",
        "Missing",
        "Not Expected",
    ]


def widest(spans: list[list[str]]) -> int:
    """Index of the longest span: the easiest to point at."""
    length = [datetime.fromisoformat(stop) - datetime.fromisoformat(start) for start, _, stop in spans]
    return length.index(max(length))


def test_hovering_a_span_shows_its_label_start_and_end(page: Any, site: Site) -> None:
    availability = open_timeline(page, site, refdes_of(site, site.seeded.failed_id))
    drawn_rows(page)
    for r, element in enumerate(availability):
        index = widest(element["data"])
        start, label, stop = element["data"][index]
        page.hover(f'#timeline g.tl-row[data-row="{r}"] rect.tl-span[data-i="{index}"]', force=True)
        page.wait_for_selector("#timeline-tip", state="visible")
        tip = page.text_content("#timeline-tip")
        assert label in tip and f"{start} → {stop} UTC" in tip and element["measure"] in tip


def test_keyboard_steps_through_the_spans_of_a_row(page: Any, site: Site) -> None:
    data = open_timeline(page, site, refdes_of(site, site.seeded.failed_id))[1]["data"]
    drawn_rows(page)
    page.focus('#timeline g.tl-row[data-row="1"]')
    page.keyboard.press("ArrowRight")
    start, label, stop = data[0]
    assert page.text_content("#timeline-live").startswith(f"{label}, {start} → {stop} UTC")
    assert page.is_visible("#timeline-tip")
    page.keyboard.press("End")
    start, label, stop = data[-1]
    assert page.text_content("#timeline-live").startswith(f"{label}, {start} → {stop} UTC")
    assert page.text_content("#timeline-live").endswith(f"{len(data)} of {len(data)}.")


def test_zoom_to_a_typed_range_updates_the_url_and_the_timeline(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.failed_id)
    whole = open_timeline(page, site, refdes)
    drawn_rows(page)
    year = site.now.year - 1
    page.fill("#zoom-start", f"{year}-01-01")
    page.fill("#zoom-stop", f"{year}-06-30 12:00:00")
    window = f"start_time={year}-01-01T00:00:00Z&stop_time={year}-06-30T12:00:00Z"
    query, zoomed = timeline_answer(page, refdes, lambda: page.click('#zoom-form button[type="submit"]'))
    assert unquote(query) == window
    assert urlsplit(page.url).query == window
    assert drawn_rows(page) == expected_rows(zoomed)
    assert zoomed != whole
    assert page.input_value("#zoom-start") == f"{year}-01-01 00:00:00"

    query, again = timeline_answer(page, refdes, page.go_back)  # Back: the whole record again
    assert query == "" and urlsplit(page.url).query == ""
    assert drawn_rows(page) == expected_rows(again)
    timeline_answer(page, refdes, page.go_forward)
    query, reset = timeline_answer(page, refdes, lambda: page.click("#zoom-reset"))
    assert query == "" and urlsplit(page.url).query == ""
    assert drawn_rows(page) == expected_rows(reset)


def test_a_bad_range_is_explained_and_not_requested(page: Any, site: Site) -> None:
    open_instrument(page, site, refdes_of(site, site.seeded.failed_id))
    drawn_rows(page)
    page.fill("#zoom-start", "yesterday")
    page.click('#zoom-form button[type="submit"]')
    assert "YYYY-MM-DD" in page.text_content("#timeline-error")
    page.fill("#zoom-start", "2025-03-01")
    page.fill("#zoom-stop", "2025-02-01")
    page.click('#zoom-form button[type="submit"]')
    assert "after its start" in page.text_content("#timeline-error")
    assert "start_time" not in page.url


def test_drag_across_the_timeline_zooms_in(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.failed_id)
    open_timeline(page, site, refdes)
    drawn_rows(page)
    page.locator("#timeline svg").scroll_into_view_if_needed()
    box = page.locator("#timeline svg").bounding_box()
    y = box["y"] + box["height"] / 2

    def drag() -> None:
        page.mouse.move(box["x"] + box["width"] * 0.4, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
        page.mouse.up()

    query, zoomed = timeline_answer(page, refdes, drag)
    window = parse_qs(query)
    assert set(window) == {"start_time", "stop_time"}
    assert window["start_time"][0] < window["stop_time"][0]
    assert urlsplit(page.url).query == unquote(query)
    assert drawn_rows(page) == expected_rows(zoomed)


def test_a_shared_zoomed_link_opens_the_same_window(page: Any, site: Site) -> None:
    refdes = refdes_of(site, site.seeded.failed_id)
    year = site.now.year - 1
    window = f"start_time={year}-02-01T00:00:00Z&stop_time={year}-03-01T00:00:00Z"
    availability = open_timeline(page, site, refdes, f"?start_time={year}-02-01&stop_time={year}-03-01")
    assert drawn_rows(page) == expected_rows(availability)
    assert availability == site.get_json(f"/available/{refdes}?{window}")["availability"]
    assert page.input_value("#zoom-stop") == f"{year}-03-01 00:00:00"
    assert page.get_attribute("#timeline-csv", "href").endswith(f"?{window}&format=csv")
