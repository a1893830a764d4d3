"""The operators' console in a real browser: worst first, sites and nodes, the monitor's pulse,
silences, acknowledgements, disables with a reason and an end, the 7-day status timeline, phones."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from api.web.conftest import PHONE, Site
from ooi_status.times import utcnow

pytestmark = pytest.mark.slow

SHOWN = "[...document.querySelectorAll('#fleet-rows tr')].map(r => [r.dataset.refdes, r.dataset.status])"
DOCS = Path(__file__).resolve().parents[3] / "docs"
# Set to write the screenshots into docs/ (to commit them); otherwise they go to the run's temporary folder.
UPDATE_DOCS = os.environ.get("OOISTATUS_UPDATE_SCREENSHOTS") == "1"


def write(site: Site, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = Request(site.url + path, data=data, method=method)
    request.add_header("X-API-Key", site.write_key)
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=15) as response:
        return json.load(response)


def silence(site: Site, refdes: str, reason: str, until: timedelta, since: timedelta | None = None) -> Any:
    body = {"refdes": refdes, "ends_at": f"{utcnow() + until:%Y-%m-%dT%H:%M:%SZ}", "reason": reason}
    if since is not None:
        body["starts_at"] = f"{utcnow() - since:%Y-%m-%dT%H:%M:%SZ}"
    return write(site, "POST", "/silence", body)


def refdes_of(site: Site, stream_id: int) -> str:
    return next(r for r, streams in site.seeded.statuses.items() if stream_id in streams)


def open_fleet(page: Any, site: Site, query: str = "") -> None:
    page.goto(f"{site.url}/{query}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")


def open_instrument(page: Any, site: Site, refdes: str) -> None:
    page.goto(f"{site.url}/ui/instrument/{refdes}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")


def enter_key(page: Any, key: str) -> None:
    page.click("#operator-key-button")
    page.fill("#key-input", key)
    page.click('#key-form button[value="save"]')
    page.wait_for_selector("#key-dialog", state="hidden")


def row(stream_id: int) -> str:
    return f'#stream-rows tr[data-id="{stream_id}"]'


def test_worst_first_with_the_handled_below_the_unhandled_and_counts_in_the_title(
    page: Any, site: Site
) -> None:
    seeded = site.seeded
    overall = seeded.overall()
    # A second failed instrument, silenced as a whole: below the unhandled failed one.
    healthy = sorted(r for r, s in overall.items() if s == "operational")
    quiet = healthy[0]
    for stream_id in seeded.statuses[quiet]:
        site.set_status(stream_id, "failed", site.now)
    silence(site, quiet, "mooring turnaround", timedelta(hours=2))
    now_overall = {**overall, quiet: "failed"}
    open_fleet(page, site)
    shown = page.evaluate(SHOWN)
    rank = {"failed": 0, "degraded": 1}
    statuses = [rank.get(status, 2) for _, status in shown]
    assert statuses == sorted(statuses), "failed, then degraded, then the rest"
    failed = [refdes for refdes, status in shown if status == "failed"]
    assert failed[-1] == quiet and len(failed) >= 2
    assert page.get_attribute(f'#fleet-rows tr[data-refdes="{quiet}"]', "data-handled") == "true"
    badge = page.text_content(f'#fleet-rows tr[data-refdes="{quiet}"] [data-mark="silenced"]')
    assert badge.startswith("Silenced until ")
    # "Silent for": the data age of the failed instrument's oldest failed stream.
    unhandled = failed[0]
    age = page.text_content(f'#fleet-rows tr[data-refdes="{unhandled}"] td[data-field="age"]')
    assert age and age != "—"
    counts = {s: list(now_overall.values()).count(s) for s in ("failed", "degraded")}
    page.wait_for_function(
        "t => document.title === t",
        arg=f"{counts['failed']} failed · {counts['degraded']} degraded — OOI ingest status",
    )


def test_group_filter_by_site_and_node_with_counts(page: Any, site: Site) -> None:
    overall = site.seeded.overall()
    open_fleet(page, site)
    sites = sorted({refdes.split("-")[0] for refdes in overall})
    site_name = max(sites, key=lambda name: sum(r.startswith(name + "-") for r in overall))
    under_site = [r for r in overall if r.startswith(site_name + "-")]
    option = page.text_content(f'#filter-site option[value="{site_name}"]')
    assert option.startswith(f"{site_name} · {len(under_site)}")
    failed = sum(overall[r] == "failed" for r in under_site)
    assert (f"{failed} failed" in option) == (failed > 0)
    page.select_option("#filter-site", site_name)
    page.wait_for_function(
        "n => document.querySelectorAll('#fleet-rows tr').length === n", arg=len(under_site)
    )
    assert sorted(r for r, _ in page.evaluate(SHOWN)) == sorted(under_site)
    assert "site=" + site_name in page.url
    # Nodes offered are those of the site; choosing one narrows to it.
    nodes = page.eval_on_selector_all("#filter-node option", "os => os.map(o => o.value).filter(Boolean)")
    assert nodes and all(node.startswith(site_name + "-") for node in nodes)
    node = nodes[0]
    under_node = [r for r in under_site if r.startswith(node + "-")]
    assert page.text_content(f'#filter-node option[value="{node}"]').startswith(f"{node} · {len(under_node)}")
    page.select_option("#filter-node", node)
    page.wait_for_function(
        "n => document.querySelectorAll('#fleet-rows tr').length === n", arg=len(under_node)
    )
    assert sorted(r for r, _ in page.evaluate(SHOWN)) == sorted(under_node)
    page.click("#filter-clear")
    page.wait_for_function("n => document.querySelectorAll('#fleet-rows tr').length === n", arg=len(overall))


def test_stale_banner_appears_when_the_last_round_is_old_and_goes_when_a_round_lands(
    page: Any, pulse_site: Site
) -> None:
    site = pulse_site
    site.set_heartbeat(utcnow() - timedelta(minutes=4))
    open_fleet(page, site)
    page.wait_for_selector("#stale-banner", state="visible")
    assert (
        page.text_content("#stale-banner") == "the monitor's last check was 4 min ago: statuses may be stale"
    )
    assert page.title().startswith("Stale: last check 4 min ago · ")
    assert page.text_content("#pulse") == "Last check 4 min ago"
    site.set_heartbeat(utcnow())  # a round lands
    page.wait_for_selector("#stale-banner", state="hidden")
    assert not page.title().startswith("Stale")
    assert page.text_content("#pulse").startswith("Last check ")
    # The instrument view shows the same pulse.
    site.set_heartbeat(utcnow() - timedelta(minutes=10))
    open_instrument(page, site, refdes_of(site, site.seeded.failed_id))
    page.wait_for_selector("#stale-banner", state="visible")
    assert (
        page.text_content("#stale-banner") == "the monitor's last check was 10 min ago: statuses may be stale"
    )


def test_create_a_silence_from_the_page_see_the_badge_and_end_it(page: Any, site: Site) -> None:
    stream_id = site.seeded.failed_id
    refdes = refdes_of(site, stream_id)
    open_instrument(page, site, refdes)
    enter_key(page, site.write_key)
    page.click("#silence-open")
    page.wait_for_selector("#silence-dialog", state="visible")
    assert page.input_value("#silence-scope") == refdes
    until = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    page.fill("#silence-end", f"{until:%Y-%m-%d %H:%M}")
    page.fill("#silence-reason", "cable work on the node")
    page.click("#silence-confirm")
    page.wait_for_selector("#silence-dialog", state="hidden")
    mark = f'{row(stream_id)} [data-mark="silenced"]'
    page.wait_for_selector(mark)
    assert page.text_content(mark) == f"Silenced until {until:%Y-%m-%d %H:%M}: cable work on the node"
    made = site.get_json("/silence")["silences"]
    assert [(s["refdes"], s["reason"], s["created_by"]) for s in made] == [
        (refdes, "cable work on the node", "ops")
    ]
    assert site.get_json(f"/stream/{stream_id}")["silenced"]["id"] == made[0]["id"]
    page.wait_for_selector("#silence-rows tr")  # the list is loaded apart from the stream rows
    assert page.locator("#silence-rows tr").count() == 1
    # End it: the row is kept (ended), the badge goes.
    page.click('#silence-rows button[data-action="end-silence"]')
    page.wait_for_selector(mark, state="detached")
    page.wait_for_selector("#silences-empty", state="visible")
    assert site.get_json("/silence")["silences"] == []
    assert site.get_json("/silence?all=true")["silences"][0]["state"] == "ended"


def test_a_silence_without_a_reason_is_not_sent(page: Any, site: Site) -> None:
    open_instrument(page, site, refdes_of(site, site.seeded.failed_id))
    enter_key(page, site.write_key)
    page.click("#silence-open")
    page.click("#silence-confirm")
    page.wait_for_selector("#silence-error", state="visible")
    assert "reason" in page.text_content("#silence-error")
    assert site.get_json("/silence?all=true")["silences"] == []


def test_acknowledge_a_failed_stream_from_the_page(page: Any, site: Site) -> None:
    stream_id = site.seeded.failed_id
    open_instrument(page, site, refdes_of(site, stream_id))
    enter_key(page, site.write_key)
    page.click(f'{row(stream_id)} button[data-action="acknowledge"]')
    page.fill("#ack-note", "ticket 812")
    page.click("#ack-confirm")
    mark = f'{row(stream_id)} [data-mark="acknowledged"]'
    page.wait_for_selector(mark)
    assert page.text_content(mark).startswith("Acknowledged by ops")
    assert page.text_content(mark).endswith(": ticket 812")
    acknowledged = site.get_json(f"/stream/{stream_id}")["acknowledged"]
    assert (acknowledged["by"], acknowledged["note"]) == ("ops", "ticket 812")
    # Operational streams offer nothing to acknowledge.
    operational = [
        i for i, s in site.seeded.statuses[refdes_of(site, stream_id)].items() if s == "operational"
    ]
    for other in operational:
        assert page.locator(f'{row(other)} button[data-action="acknowledge"]').count() == 0


def test_disable_with_a_reason_and_until_and_the_monitor_re_enables_after_it(page: Any, site: Site) -> None:
    stream_id = site.seeded.degraded_id
    refdes = refdes_of(site, stream_id)
    open_instrument(page, site, refdes)
    enter_key(page, site.write_key)
    page.click(f'{row(stream_id)} button[data-action="disable"]')
    page.wait_for_selector("#disable-dialog", state="visible")
    # The dialog asks for a reason before it confirms.
    page.click("#disable-confirm")
    page.wait_for_selector("#disable-error", state="visible")
    assert site.get_json(f"/stream/{stream_id}")["disabled"] is None
    until = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    page.fill("#disable-reason", "sensor swap")
    page.fill("#disable-until", f"{until:%Y-%m-%d %H:%M}")
    page.click("#disable-confirm")
    page.wait_for_selector(f'{row(stream_id)} button[data-action="enable"]')
    assert page.text_content(f'{row(stream_id)} [data-mark="disabled"]') == (
        f"Disabled until {until:%Y-%m-%d %H:%M}: sensor swap"
    )
    disabled = site.get_json(f"/stream/{stream_id}")["disabled"]
    assert (disabled["by"], disabled["reason"], disabled["until"]) == (
        "ops",
        "sensor swap",
        f"{until:%Y-%m-%d %H:%M:%S}",
    )
    # The monitor's first round after ``until`` tracks the stream again, and its history says so.
    site.check_round(until + timedelta(seconds=30))
    after = site.get_json(f"/stream/{stream_id}")
    assert after["disabled"] is None and after["warn_interval"] is None
    history = site.get_json(f"/stream/{stream_id}/history")["history"]
    assert (
        history[0]["note"]
        == f"re-enabled: the disable by ops until {until:%Y-%m-%d %H:%M:%S} ended (sensor swap)"
    )
    page.reload()
    page.wait_for_selector(f'{row(stream_id)} button[data-action="disable"]')
    page.wait_for_selector(f'#history-rows .history-note >> text="{history[0]["note"]}"')


def test_the_status_timeline_has_one_segment_per_history_interval(page: Any, site: Site) -> None:
    stream_id = site.seeded.failed_id
    refdes = refdes_of(site, stream_id)
    open_instrument(page, site, refdes)
    page.wait_for_selector(f'#state-timeline .state-row[data-id="{stream_id}"] .seg')
    week_ago = utcnow() - timedelta(days=7)
    for stream in site.seeded.statuses[refdes]:
        history = site.get_json(f"/stream/{stream}/history?limit=1000")["history"]
        inside = [h for h in reversed(history) if h["changed_at"] >= f"{week_ago:%Y-%m-%d %H:%M:%S}"]
        segments = page.eval_on_selector_all(
            f'#state-timeline .state-row[data-id="{stream}"] .seg', "ss => ss.map(s => s.dataset.status)"
        )
        current = site.get_json(f"/stream/{stream}")["status"]
        first = inside[0]["old_status"] if inside else current
        assert segments == [first, *(h["new_status"] for h in inside)], stream
    failed_segments = page.eval_on_selector_all(
        f'#state-timeline .state-row[data-id="{stream_id}"] .seg', "ss => ss.map(s => s.dataset.status)"
    )
    assert failed_segments[-1] == "failed" and len(failed_segments) >= 2


def test_silenced_time_shows_in_the_status_timeline(page: Any, site: Site) -> None:
    stream_id = site.seeded.failed_id
    refdes = refdes_of(site, stream_id)
    silence(site, refdes, "cable work", timedelta(hours=1), since=timedelta(hours=1))
    open_instrument(page, site, refdes)
    page.wait_for_selector(f'#state-timeline .state-row[data-id="{stream_id}"] .seg[data-status="silenced"]')


def test_every_action_of_the_instrument_view_is_reachable_at_phone_width(
    page: Any, site: Site, screenshots: Path
) -> None:
    page.set_viewport_size(PHONE)
    stream_id = site.seeded.failed_id
    refdes = refdes_of(site, stream_id)
    open_instrument(page, site, refdes)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    enter_key(page, site.write_key)

    def click(selector: str) -> None:
        locator = page.locator(selector).first
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
        locator.click()

    click(f'{row(stream_id)} button[data-action="acknowledge"]')
    page.fill("#ack-note", "on it")
    click("#ack-confirm")
    page.wait_for_selector(f'{row(stream_id)} [data-mark="acknowledged"]')
    click(f'{row(stream_id)} button[data-action="edit"]')
    click("#edit-cancel")
    click("#silence-open")
    page.fill("#silence-reason", "phone test")
    click("#silence-confirm")
    page.wait_for_selector("#silence-rows tr")
    page.screenshot(path=str(screenshots / "instrument-view-phone.png"), full_page=True)
    click('#silence-rows button[data-action="end-silence"]')
    page.wait_for_selector("#silences-empty", state="visible")
    click(f'{row(stream_id)} button[data-action="disable"]')
    page.fill("#disable-reason", "phone test")
    click("#disable-confirm")
    click(f'{row(stream_id)} button[data-action="enable"]')
    page.wait_for_selector(f'{row(stream_id)} button[data-action="disable"]')
    click("#acknowledge-all")
    click("#ack-cancel")
    click("#zoom-reset")
    click("#back-to-fleet")
    page.wait_for_selector("#fleet-rows tr")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    click("#fleet-rows tr a")
    page.wait_for_url("**/ui/instrument/**")


def test_screenshots_at_both_widths(page: Any, site: Site, screenshots: Path) -> None:
    """The views as operators see them, desktop and phone (``OOISTATUS_UPDATE_SCREENSHOTS=1``
    writes them to docs/, where the README shows them)."""
    folder = DOCS if UPDATE_DOCS else screenshots
    stream_id = site.seeded.failed_id
    refdes = refdes_of(site, stream_id)
    write(site, "PUT", f"/stream/{stream_id}/acknowledge", {"note": "cable fault, ticket 812"})
    silence(site, refdes.split("-")[0], "mooring turnaround", timedelta(days=3))
    for size, suffix in (({"width": 1280, "height": 800}, ""), (PHONE, "-phone")):
        page.set_viewport_size(size)
        open_fleet(page, site)
        page.screenshot(path=str(folder / f"fleet-view{suffix}.png"))
        open_instrument(page, site, refdes)
        page.wait_for_selector(f'#state-timeline .state-row[data-id="{stream_id}"] .seg')
        page.wait_for_selector('#timeline[aria-busy="false"] svg')
        page.screenshot(path=str(folder / f"instrument-view{suffix}.png"), full_page=True)
        assert (folder / f"instrument-view{suffix}.png").stat().st_size > 0
