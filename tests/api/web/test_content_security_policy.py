"""Every page works under its Content-Security-Policy: nothing refused, everything drawn."""

from __future__ import annotations

from typing import Any

import pytest

from api.web.conftest import Site

pytestmark = pytest.mark.slow


def refused_by_the_policy(page: Any) -> list[str]:
    """What the browser refuses under the policy, as it reports it on the console."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused


def test_every_page_runs_and_draws_under_its_policy(page: Any, site: Site) -> None:
    refused = refused_by_the_policy(page)
    failed = next(r for r, streams in site.seeded.statuses.items() if site.seeded.failed_id in streams)

    response = page.goto(f"{site.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#fleet-rows tr")

    page.goto(f"{site.url}/ui/instrument/{failed}")
    page.wait_for_function("document.getElementById('updated').textContent.startsWith('Updated')")
    page.wait_for_selector("#timeline svg rect.tl-span", state="attached")
    page.wait_for_selector("#state-timeline .state-row", state="attached")
    # Styled by the scripts: the position of the status segments and of the timeline's tooltip.
    page.locator("#timeline svg rect.tl-span").first.hover(force=True)

    page.goto(f"{site.url}/ui/reports")
    page.wait_for_selector("#heatmap[data-ready]", state="attached")
    page.wait_for_selector("#uptime-table[data-ready]", state="attached")

    page.goto(f"{site.url}/ui/notifications")
    page.wait_for_selector("#subscriptions-error, #subscriptions-empty, #key-dialog", state="attached")

    page.goto(f"{site.url}/ui/instrument/CE01ISSM-MFD35-04-UNKNOWN00")
    assert page.locator("h1").count() >= 1
    assert refused == []
