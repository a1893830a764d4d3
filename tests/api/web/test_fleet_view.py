"""The fleet view at / in a real browser: counts, the instrument table, filters, sorting, refresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from api.web.conftest import PHONE, Site

pytestmark = pytest.mark.slow

STATUSES = ("operational", "degraded", "failed", "notTracked")


def open_fleet(page: Any, site: Site, query: str = "") -> None:
    page.goto(f"{site.url}/{query}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")


def shown_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#fleet-rows tr", "rows => rows.map(r => ({refdes: r.dataset.refdes, status: r.dataset.status}))"
    )


def test_lists_every_instrument_with_the_right_counts(page: Any, site: Site, screenshots: Path) -> None:
    open_fleet(page, site)
    overall = site.seeded.overall()
    rows = shown_rows(page)
    assert [r["refdes"] for r in rows] == sorted(overall)
    assert {r["refdes"]: r["status"] for r in rows} == overall
    instruments, streams = site.seeded.instrument_counts(), site.seeded.stream_counts()
    assert set(streams) == set(STATUSES), "the demo shows every status"
    for status in STATUSES:
        assert page.text_content(f"#count-instruments-{status}") == str(instruments[status])
        assert page.text_content(f"#count-streams-{status}") == str(streams[status])
    assert page.text_content("#result-count") == f"{len(overall)} instruments"
    # Per-row stream counts, and the status as a word as well as a color.
    refdes, per_stream = next(iter(sorted(site.seeded.statuses.items())))
    cells = page.eval_on_selector_all(
        f'#fleet-rows tr[data-refdes="{refdes}"] td', "cells => cells.map(c => c.textContent.trim())"
    )
    assert cells[0] == refdes
    assert cells[1] == {"operational": "Operational", "degraded": "Degraded", "failed": "Failed"}.get(
        overall[refdes], "Not tracked"
    )
    assert cells[2:6] == [str(list(per_stream.values()).count(s)) for s in STATUSES]
    page.screenshot(path=str(screenshots / "fleet-view.png"))


def test_filter_by_status_is_kept_in_the_url(page: Any, site: Site) -> None:
    open_fleet(page, site)
    overall = site.seeded.overall()
    failed = sorted(r for r, s in overall.items() if s == "failed")
    assert failed, "the demo has a failed instrument"
    page.select_option("#filter-status", "failed")
    page.wait_for_function(f"document.querySelectorAll('#fleet-rows tr').length === {len(failed)}")
    assert [r["refdes"] for r in shown_rows(page)] == failed
    assert parse_qs(urlsplit(page.url).query) == {"status": ["failed"]}
    assert page.get_attribute('button.tile[data-status="failed"]', "aria-pressed") == "true"
    assert page.text_content("#result-count") == f"Showing {len(failed)} of {len(overall)} instruments"
    # A shared link opens the same view.
    page.goto(page.url)
    page.wait_for_selector("#fleet-rows tr")
    assert [r["refdes"] for r in shown_rows(page)] == failed
    assert page.input_value("#filter-status") == "failed"


def test_status_tiles_filter_and_unfilter(page: Any, site: Site) -> None:
    open_fleet(page, site)
    overall = site.seeded.overall()
    page.click('button.tile[data-status="operational"]')
    expected = sorted(r for r, s in overall.items() if s == "operational")
    page.wait_for_function(f"document.querySelectorAll('#fleet-rows tr').length === {len(expected)}")
    page.click('button.tile[data-status="operational"]')
    page.wait_for_function(f"document.querySelectorAll('#fleet-rows tr').length === {len(overall)}")
    assert urlsplit(page.url).query == ""


def test_filter_by_text_matches_refdes_stream_and_method(page: Any, site: Site) -> None:
    open_fleet(page, site)
    names = site.seeded.names

    def having(word: str) -> list[str]:
        return sorted(
            refdes
            for refdes, streams in site.seeded.statuses.items()
            if word.lower() in refdes.lower() or any(word in " ".join(names[i]) for i in streams)
        )

    for word in ("telemetered", "ctdbp_no_sample", "RS01", "botpt"):
        expected = having(word)
        assert expected, word
        page.fill("#filter-text", word)
        page.wait_for_function(
            "([n, q]) => new URLSearchParams(location.search).get('q') === q"
            " && document.querySelectorAll('#fleet-rows tr').length === n",
            arg=[len(expected), word],
        )
        assert [r["refdes"] for r in shown_rows(page)] == expected, word
    page.fill("#filter-text", "no-such-thing")
    page.wait_for_selector("#fleet-empty", state="visible")
    page.click("#filter-clear")
    page.wait_for_function(
        f"document.querySelectorAll('#fleet-rows tr').length === {len(site.seeded.statuses)}"
    )


def test_text_and_status_filters_combine_and_survive_a_refresh(page: Any, site: Site) -> None:
    open_fleet(page, site, "?q=streamed&status=operational")
    overall = site.seeded.overall()
    expected = sorted(
        r
        for r, s in overall.items()
        if s == "operational" and any(site.seeded.names[i][0] == "streamed" for i in site.seeded.statuses[r])
    )
    assert [r["refdes"] for r in shown_rows(page)] == expected
    page.click("#refresh-now")
    page.wait_for_function("!document.getElementById('refresh-now').disabled")
    assert [r["refdes"] for r in shown_rows(page)] == expected
    assert page.input_value("#filter-text") == "streamed"


def test_sort_by_column_with_aria_sort(page: Any, site: Site) -> None:
    open_fleet(page, site)
    assert page.get_attribute('th[data-sort="refdes"]', "aria-sort") == "ascending"
    page.click('th[data-sort="refdes"] button')
    assert page.get_attribute('th[data-sort="refdes"]', "aria-sort") == "descending"
    assert [r["refdes"] for r in shown_rows(page)] == sorted(site.seeded.overall(), reverse=True)

    page.click('th[data-sort="overall"] button')  # worst first
    assert page.get_attribute('th[data-sort="overall"]', "aria-sort") == "descending"
    assert page.get_attribute('th[data-sort="refdes"]', "aria-sort") is None
    rank = {"notTracked": 0, "operational": 1, "degraded": 2, "failed": 3}
    statuses = [rank[r["status"]] for r in shown_rows(page)]
    assert statuses == sorted(statuses, reverse=True)
    assert parse_qs(urlsplit(page.url).query) == {"sort": ["overall"], "dir": ["desc"]}

    page.click('th[data-sort="failed"] button')
    counts = page.eval_on_selector_all(
        "#fleet-rows tr td:nth-child(5)", "cells => cells.map(c => +c.textContent)"
    )
    assert counts == sorted(counts, reverse=True)


def test_keyboard_reaches_filters_sorting_and_instrument_links(page: Any, site: Site) -> None:
    open_fleet(page, site)
    page.focus("#filter-text")
    page.keyboard.type("RS03")
    page.wait_for_function("new URLSearchParams(location.search).get('q') === 'RS03'")
    page.focus('th[data-sort="changed"] button')
    page.keyboard.press("Enter")
    assert page.get_attribute('th[data-sort="changed"]', "aria-sort") == "descending"
    page.focus("#fleet-rows tr a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/instrument/RS03*")


def test_readable_at_phone_width(page: Any, site: Site, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    open_fleet(page, site)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.is_visible("#filter-text") and page.is_visible("#count-instruments-failed")
    page.screenshot(path=str(screenshots / "fleet-view-phone.png"))


def test_three_thousand_instruments_render_in_under_a_second(page: Any, big_site: Site) -> None:
    page.goto(big_site.url + "/")
    page.wait_for_function("document.querySelectorAll('#fleet-rows tr').length === 3000", timeout=30_000)
    render_ms = float(page.get_attribute("#fleet-table", "data-render-ms"))
    ready_ms = float(page.get_attribute("#fleet-table", "data-ready-ms"))
    print(f"3,000 instruments: rows built in {render_ms:.0f} ms, table ready {ready_ms:.0f} ms after loading")
    assert render_ms < 1000, f"building 3,000 rows took {render_ms} ms"
    counts = big_site.seeded.instrument_counts()
    for status in STATUSES:
        assert page.text_content(f"#count-instruments-{status}") == f"{counts[status]:,}"
    # Filtering re-renders just as fast.
    page.fill("#filter-text", "N0042")
    page.wait_for_function("document.querySelectorAll('#fleet-rows tr').length === 3")
    assert float(page.get_attribute("#fleet-table", "data-render-ms")) < 1000


def test_where_reads_need_a_key_the_page_asks_and_then_shows(page: Any, locked_site: Site) -> None:
    page.goto(locked_site.url + "/")
    page.wait_for_selector("#fleet-error", state="visible")
    assert "enter an API key" in page.text_content("#fleet-error")
    page.click("#operator-key-button")
    page.fill("#key-input", locked_site.write_key)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#fleet-rows tr').length === {len(locked_site.seeded.statuses)}"
    )
    assert page.is_hidden("#fleet-error")
