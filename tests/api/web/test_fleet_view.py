"""The fleet view at / in a real browser: counts, the instrument table, filters, sorting, refresh."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from api.web.conftest import PHONE, Site

pytestmark = pytest.mark.slow

STATUSES = ("operational", "degraded", "failed", "notTracked")
# Bound on waiting for the page's own refresh (CHECK_INTERVAL is 1 s there): a deadline, not a requirement.
REFRESH_WAIT_MS = 15_000
SHOWN_REFDES = "[...document.querySelectorAll('#fleet-rows tr')].map(r => r.dataset.refdes)"


RANK = {"failed": 0, "degraded": 1, "operational": 2, "notTracked": 3}


def worst_first(refdes: list[str], overall: dict[str, str]) -> list[str]:
    """The fleet view's default order (nothing silenced or acknowledged): worst status first, then by name."""
    return sorted(refdes, key=lambda r: (RANK[overall[r]], r))


def open_fleet(page: Any, site: Site, query: str = "") -> None:
    page.goto(f"{site.url}/{query}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")


def shown_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#fleet-rows tr", "rows => rows.map(r => ({refdes: r.dataset.refdes, status: r.dataset.status}))"
    )


def shows_refdes(page: Any, refdes: list[str], timeout: int | None = None) -> None:
    """Wait until the table lists exactly ``refdes``, in this order."""
    page.wait_for_function(
        f"want => JSON.stringify({SHOWN_REFDES}) === JSON.stringify(want)", arg=refdes, timeout=timeout
    )


def has_streamed(site: Site, refdes: str) -> bool:
    return any(site.seeded.names[i][0] == "streamed" for i in site.seeded.statuses[refdes])


def row_cells(page: Any, refdes: str) -> list[str]:
    return page.eval_on_selector_all(
        f'#fleet-rows tr[data-refdes="{refdes}"] td', "cells => cells.map(c => c.textContent.trim())"
    )


def test_lists_every_instrument_with_the_right_counts(page: Any, site: Site, screenshots: Path) -> None:
    open_fleet(page, site)
    overall = site.seeded.overall()
    rows = shown_rows(page)
    assert [r["refdes"] for r in rows] == worst_first(list(overall), overall)
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
    assert cells[3:7] == [str(list(per_stream.values()).count(s)) for s in STATUSES]
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
        assert [r["refdes"] for r in shown_rows(page)] == worst_first(expected, site.seeded.overall()), word
    page.fill("#filter-text", "no-such-thing")
    page.wait_for_selector("#fleet-empty", state="visible")
    page.click("#filter-clear")
    page.wait_for_function(
        f"document.querySelectorAll('#fleet-rows tr').length === {len(site.seeded.statuses)}"
    )


def test_text_and_status_filters_combine_and_survive_a_refresh(page: Any, site: Site) -> None:
    open_fleet(page, site, "?q=streamed&status=operational")
    overall = site.seeded.overall()
    expected = sorted(r for r, s in overall.items() if s == "operational" and has_streamed(site, r))
    assert [r["refdes"] for r in shown_rows(page)] == expected
    page.click("#refresh-now")
    page.wait_for_function("!document.getElementById('refresh-now').disabled")
    assert [r["refdes"] for r in shown_rows(page)] == expected
    assert page.input_value("#filter-text") == "streamed"


def test_refreshes_itself_every_check_interval_keeping_the_filter(page: Any, live_site: Site) -> None:
    site = live_site
    open_fleet(page, site)
    assert page.text_content("#updated").endswith("every 1 s")
    page.fill("#filter-text", "streamed")
    page.select_option("#filter-status", "operational")
    overall = site.seeded.overall()
    before = sorted(r for r, s in overall.items() if s == "operational" and has_streamed(site, r))
    assert len(before) >= 2, "the demo has operational instruments with streamed streams"
    page.wait_for_function(
        "new URLSearchParams(location.search).get('q') === 'streamed'"
        " && new URLSearchParams(location.search).get('status') === 'operational'"
    )
    shows_refdes(page, before)
    url = page.url
    page.evaluate("window.fleetTestMark = 'same document'")  # gone if the page were reloaded

    # Behind the page's back, as the monitor would: one shown instrument fails, one hidden recovers.
    changed_at = site.now + timedelta(minutes=3)
    leaving = before[0]
    failing = next(i for i, s in site.seeded.statuses[leaving].items() if s == "operational")
    site.set_status(failing, "failed", changed_at)
    joining = next(r for r in sorted(overall) if overall[r] != "operational" and has_streamed(site, r))
    for stream_id, status in site.seeded.statuses[joining].items():
        if status != "operational":
            site.set_status(stream_id, "operational", changed_at)
    after = sorted({*before, joining} - {leaving})

    shows_refdes(page, after, timeout=REFRESH_WAIT_MS)
    assert page.evaluate("window.fleetTestMark") == "same document"
    assert page.url == url
    assert parse_qs(urlsplit(page.url).query) == {"q": ["streamed"], "status": ["operational"]}
    assert page.input_value("#filter-text") == "streamed"
    assert page.input_value("#filter-status") == "operational"
    assert page.get_attribute('button.tile[data-status="operational"]', "aria-pressed") == "true"
    assert page.text_content("#result-count") == f"Showing {len(after)} of {len(overall)} instruments"
    # The counts and the joining instrument's row are the new ones too.
    now_overall = {**overall, leaving: "failed", joining: "operational"}
    counts = Counter(now_overall.values())
    for status in STATUSES:
        assert page.text_content(f"#count-instruments-{status}") == str(counts[status]), status
    cells = row_cells(page, joining)
    assert cells[1] == "Operational"
    assert cells[3:7] == [str(len(site.seeded.statuses[joining])), "0", "0", "0"]
    assert cells[7] == f"{changed_at:%Y-%m-%d %H:%M}"


def test_a_refresh_while_typing_keeps_what_was_typed(page: Any, live_site: Site) -> None:
    open_fleet(page, live_site)
    first_update = page.text_content("#updated")
    page.focus("#filter-text")
    # Keys closer together than the filter's pause, for about 2.5 s: refreshes land mid-word.
    words = "RS01 streamed RS01 streamed RS01 streamed"
    page.keyboard.type(words, delay=60)
    assert page.text_content("#updated") != first_update, "the page refreshed while the words were typed"
    page.wait_for_function("q => new URLSearchParams(location.search).get('q') === q", arg=words)
    assert page.input_value("#filter-text") == words
    expected = worst_first(
        [r for r in live_site.seeded.statuses if "RS01" in r and has_streamed(live_site, r)],
        live_site.seeded.overall(),
    )
    assert expected
    shows_refdes(page, expected)


def test_typing_slowly_keeps_the_spaces_between_words(page: Any, site: Site) -> None:
    open_fleet(page, site)
    page.focus("#filter-text")
    # A pause after each key, longer than the filter waits before it applies the text.
    page.keyboard.type("RS01 streamed", delay=250)
    page.wait_for_function("new URLSearchParams(location.search).get('q') === 'RS01 streamed'")
    assert page.input_value("#filter-text") == "RS01 streamed"
    expected = worst_first(
        [r for r in site.seeded.statuses if "RS01" in r and has_streamed(site, r)], site.seeded.overall()
    )
    assert expected
    shows_refdes(page, expected)


def test_last_status_change_is_the_newest_status_time_of_the_streams(page: Any, site: Site) -> None:
    open_fleet(page, site)
    seeded = site.seeded
    # Instruments whose streams changed at different times: the newest must be the one shown.
    mixed = [
        refdes
        for refdes, streams in seeded.statuses.items()
        if len({seeded.status_times[i] for i in streams}) > 1
    ]
    assert mixed, "the demo has instruments whose streams changed at different times"
    shown = page.eval_on_selector_all(
        "#fleet-rows tr",
        """rows => rows.map(r => {
            const time = r.querySelector('td.when time');
            return [r.dataset.refdes, r.querySelector('td.when').textContent.trim(),
                    time && time.getAttribute('title'), time && time.getAttribute('datetime')];
        })""",
    )
    expected = [
        [
            refdes,
            f"{newest:%Y-%m-%d %H:%M}",
            f"{newest:%Y-%m-%d %H:%M:%S} UTC",
            f"{newest:%Y-%m-%dT%H:%M:%SZ}",
        ]
        for refdes in worst_first(list(seeded.statuses), seeded.overall())
        for newest in [seeded.last_change(refdes)]
    ]
    assert shown == expected
    refdes = mixed[0]
    newest = seeded.last_change(refdes)
    assert newest > min(seeded.status_times[i] for i in seeded.statuses[refdes])
    assert row_cells(page, refdes)[7] == newest.strftime("%Y-%m-%d %H:%M")


def test_sort_by_column_with_aria_sort(page: Any, site: Site) -> None:
    open_fleet(page, site)
    # Worst first by default, and the Status header says so.
    assert page.get_attribute('th[data-sort="overall"]', "aria-sort") == "descending"
    rank = {"notTracked": 0, "operational": 1, "degraded": 2, "failed": 3}
    statuses = [rank[r["status"]] for r in shown_rows(page)]
    assert statuses == sorted(statuses, reverse=True)
    assert urlsplit(page.url).query == ""
    page.click('th[data-sort="refdes"] button')
    assert page.get_attribute('th[data-sort="refdes"]', "aria-sort") == "ascending"
    assert page.get_attribute('th[data-sort="overall"]', "aria-sort") is None
    page.click('th[data-sort="refdes"] button')
    assert page.get_attribute('th[data-sort="refdes"]', "aria-sort") == "descending"
    assert [r["refdes"] for r in shown_rows(page)] == sorted(site.seeded.overall(), reverse=True)
    assert parse_qs(urlsplit(page.url).query) == {"sort": ["refdes"], "dir": ["desc"]}

    page.click('th[data-sort="failed"] button')
    counts = page.eval_on_selector_all(
        "#fleet-rows tr td:nth-child(6)", "cells => cells.map(c => +c.textContent)"
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


def test_three_thousand_instruments_are_all_listed_with_their_counts(
    page: Any, big_site: Site, tmp_path: Path
) -> None:
    page.goto(big_site.url + "/")
    # Ready: the first full table is in (data-ready-ms is set once it is) and the page says so.
    page.wait_for_function(
        "document.getElementById('fleet-table').dataset.readyMs !== undefined"
        " && document.getElementById('updated').textContent.startsWith('Updated')",
        timeout=30_000,
    )
    seeded = big_site.seeded
    names = worst_first(list(seeded.statuses), seeded.overall())
    assert len(names) == 3000
    assert page.eval_on_selector_all("#fleet-rows tr", "rows => rows.length") == 3000
    assert page.evaluate(SHOWN_REFDES) == names
    assert page.text_content("#result-count") == "3000 instruments"
    assert page.text_content("#total-instruments") == "· 3,000"
    assert page.text_content("#total-streams") == "· 12,000"
    instruments, streams = seeded.instrument_counts(), seeded.stream_counts()
    assert set(streams) == set(STATUSES)
    for status in STATUSES:
        assert page.text_content(f"#count-instruments-{status}") == f"{instruments[status]:,}"
        assert page.text_content(f"#count-streams-{status}") == f"{streams[status]:,}"
    # The measured times are recorded, not judged (no test asserts a timing).
    measured = {
        "rows_built_ms": float(page.get_attribute("#fleet-table", "data-render-ms")),
        "ready_after_navigation_ms": float(page.get_attribute("#fleet-table", "data-ready-ms")),
    }
    page.fill("#filter-text", "N0042")
    want = worst_first([r for r in names if "N0042" in r], seeded.overall())
    assert len(want) == 3
    shows_refdes(page, want)
    measured["filtered_rows_built_ms"] = float(page.get_attribute("#fleet-table", "data-render-ms"))
    (tmp_path / "fleet-3000-timings.json").write_text(json.dumps(measured, indent=2))
    print(f"3,000 instruments: {measured} (also in {tmp_path / 'fleet-3000-timings.json'})")


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
