"""The Reports view in a real browser: the coverage heatmap, its click-through, the uptime table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.web.conftest import Site, _demo, _site
from ooi_status.model.monitor import Coverage
from ooi_status.reports.coverage_upkeep import CoverageSources, run_upkeep
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource

pytestmark = pytest.mark.slow

#: An instrument of known coverage: two months, 99.5 % and 40 % present.
KNOWN = "XX01TEST-N01-01-CTDBPA001"
COLORS = {"dark green": "rgb(26, 127, 55)", "red": "rgb(201, 57, 43)"}


def _known_rows(session: Session, now: datetime) -> list[str]:
    this = datetime(now.year, now.month, 1, tzinfo=UTC)
    last = datetime(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1, tzinfo=UTC)
    months = []
    for start, present, missing in ((last, 99.5, 0.5), (this, 40.0, 60.0)):
        label = f"{start:%Y-%m}"
        months.append(label)
        session.add(Coverage(
            refdes=KNOWN, method="streamed", stream="ctdbp_no_sample", kind="month", period=label,
            period_start=start, window_start=start, window_stop=now, present=present * 100, sparse1=0.0,
            sparse2=0.0, sparse3=0.0, missing=missing * 100, not_expected=0.0,
        ))  # fmt: skip
    return months


@pytest.fixture
def reports_site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """The demo observatory with its monitor rows and its coverage built, and one known instrument."""

    def fill(monitor: Any, metadata: Any, now: datetime) -> Any:
        observatory, seeded = _demo(monitor, metadata, now)
        sources = CoverageSources(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
        settings = site_settings[0]
        run_upkeep(lambda: Session(monitor), sources, now, settings, deadline=float("inf"), everything=True)
        with Session(monitor) as session, session.begin():
            seeded.known_months = _known_rows(session, now)  # type: ignore[attr-defined]
        return observatory, seeded

    from ooi_status.config import load_settings

    site_settings = [load_settings(environ={}, overrides={"DATA_DIR": str(tmp_path / "unused")})]
    yield from _site(tmp_path, sqlite_monitor_template, write_key, fill)


def open_reports(page: Any, site: Site, query: str = "") -> None:
    page.goto(f"{site.url}/ui/reports{query}")
    page.wait_for_selector("#heatmap[data-ready]", state="attached")
    page.wait_for_selector("#uptime-table[data-ready]", state="attached")


def cell(name: str, month: str) -> str:
    return f'#heatmap-rows tr[data-name="{name}"] td[data-month="{month}"]'


def test_heatmap_colours_a_known_month_and_opens_its_timeline(
    page: Any, reports_site: Site, screenshots: Path
) -> None:
    open_reports(page, reports_site)
    last, this = reports_site.seeded.known_months  # type: ignore[attr-defined]
    background = "el => getComputedStyle(el).backgroundColor"
    assert page.eval_on_selector(cell(KNOWN, last), background) == COLORS["dark green"]
    assert page.eval_on_selector(cell(KNOWN, this), background) == COLORS["red"]
    assert page.text_content(cell(KNOWN, this)).strip() == "40.0"
    # Every demo instrument has a row, its cells the shares the API reports.
    report = reports_site.get_json("/report/coverage?group=instrument")["rows"]
    shown = page.eval_on_selector_all(
        "#heatmap-rows td[data-percent]",
        "cells => cells.map(c => [c.closest('tr').dataset.name, c.dataset.month,"
        " c.dataset.percent === '' ? null : +c.dataset.percent])",
    )
    assert sorted(shown) == sorted([r["refdes"], r["month"], r["present_percent"]] for r in report)
    page.screenshot(path=str(screenshots / "reports.png"), full_page=True)
    # A click opens that instrument's timeline over that month.
    refdes = reports_site.observatory.refdes_list()[0]
    page.click(f"{cell(refdes, this)} a")
    page.wait_for_url(f"**/ui/instrument/{refdes}?*")
    year, month = map(int, this.split("-"))
    following = f"{year + month // 12}-{month % 12 + 1:02d}-01"
    assert page.url.endswith(f"?start_time={this}-01T00:00:00Z&stop_time={following}T00:00:00Z")
    page.wait_for_function("document.getElementById('zoom-start').value !== ''")
    assert page.input_value("#zoom-start") == f"{this}-01 00:00:00"
    assert page.input_value("#zoom-stop") == f"{following} 00:00:00"


def test_sites_as_rows_and_a_site_cell_lists_its_instruments(page: Any, reports_site: Site) -> None:
    open_reports(page, reports_site, "?group=site")
    sites = page.eval_on_selector_all("#heatmap-rows tr", "rows => rows.map(r => r.dataset.name)")
    assert sites == sorted(
        {refdes.split("-")[0] for refdes in reports_site.observatory.refdes_list()} | {"XX01TEST"}
    )
    last, _ = reports_site.seeded.known_months  # type: ignore[attr-defined]
    page.click(f"{cell('XX01TEST', last)} a")
    page.wait_for_function("document.querySelectorAll('#heatmap-rows tr').length === 1")
    assert page.eval_on_selector_all("#heatmap-rows tr", "rows => rows.map(r => r.dataset.name)") == [KNOWN]
    csv = page.get_attribute("#coverage-csv", "href")
    assert csv == "/report/coverage?group=instrument&format=csv"


def test_uptime_table_shows_7_and_30_days_and_sorts(page: Any, reports_site: Site) -> None:
    open_reports(page, reports_site)
    week = {
        r["refdes"]: r["uptime_percent"] for r in reports_site.get_json("/report/uptime?window=7d")["rows"]
    }
    month = {
        r["refdes"]: r["uptime_percent"] for r in reports_site.get_json("/report/uptime?window=30d")["rows"]
    }
    rows = page.eval_on_selector_all(
        "#uptime-rows tr",
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.textContent.trim()))",
    )

    def value(text: str) -> float | None:
        return None if text == "–" else float(text.removesuffix(" %"))

    # The windows end at each request's now: the page's and these differ by the seconds between.
    assert [row[0] for row in rows] == sorted(week)
    for refdes, d7, d30 in rows:
        for shown, expected in ((value(d7), week[refdes]), (value(d30), month.get(refdes))):
            assert (shown is None) == (expected is None), refdes
            assert shown is None or shown == pytest.approx(expected, abs=0.05), refdes
    assert len({row[1] for row in rows}) > 1, "the demo history gives different uptimes"
    page.click('#uptime-table th[data-sort="d7"] button')
    shown = page.eval_on_selector_all("#uptime-rows tr", "rows => rows.map(r => r.dataset.refdes)")
    tracked = [refdes for refdes in shown if week[refdes] is not None]
    assert [week[r] for r in tracked] == sorted(week[r] for r in tracked)
    assert shown[: len(tracked)] == tracked  # untracked last
    assert page.get_attribute('#uptime-table th[data-sort="d7"]', "aria-sort") == "ascending"
    page.click('#uptime-table th[data-sort="d7"] button')
    assert page.get_attribute('#uptime-table th[data-sort="d7"]', "aria-sort") == "descending"


def test_the_fleet_view_shows_each_instruments_7_day_uptime(page: Any, reports_site: Site) -> None:
    page.goto(f"{reports_site.url}/")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")
    week = {
        r["refdes"]: r["uptime_percent"] for r in reports_site.get_json("/report/uptime?window=7d")["rows"]
    }
    script = (
        "rows => rows.map(r => [r.dataset.refdes,"
        " r.querySelector('td[data-field=uptime]').textContent.trim()])"
    )
    shown = dict(page.eval_on_selector_all("#fleet-rows tr", script))
    assert set(shown) == set(week)
    for refdes, text in shown.items():
        if week[refdes] is None:
            assert text == "–"
        else:  # the page's window ends a moment before or after this request's
            assert float(text.removesuffix(" %")) == pytest.approx(week[refdes], abs=0.05), refdes
    page.click('th[data-sort="uptime"] button')  # most first, as the other number columns
    assert page.get_attribute('th[data-sort="uptime"]', "aria-sort") == "descending"
    order = page.eval_on_selector_all("#fleet-rows tr", "rows => rows.map(r => r.dataset.refdes)")
    values = [-1.0 if shown[r] == "–" else float(shown[r].removesuffix(" %")) for r in order]
    assert values == sorted(values, reverse=True)
