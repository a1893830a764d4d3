"""The notifications page and the flapping mark, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.web.conftest import Site
from ooi_status.db import make_engine
from ooi_status.model.monitor import DeployedStream
from ooi_status.times import utcnow

pytestmark = pytest.mark.slow


def enter_key(page: Any, key: str) -> None:
    page.click("#operator-key-button")
    page.fill("#key-input", key)
    page.click('#key-form button[value="save"]')
    page.wait_for_selector("#key-dialog", state="hidden")


def test_add_test_and_remove_a_subscription(page: Any, site: Site) -> None:
    page.goto(f"{site.url}/ui/notifications")
    assert page.is_visible("#subscriptions-locked")
    enter_key(page, site.write_key)
    page.wait_for_selector("#subscriptions-empty", state="visible")
    page.select_option("#subscribe-kind", "email")
    page.fill("#subscribe-target", "not an address")
    page.click('#subscribe-form button[type="submit"]')
    page.wait_for_selector("#subscriptions-error", state="visible")
    assert "target: not an e-mail address" in page.text_content("#subscriptions-error")

    page.fill("#subscribe-target", "ops@example.org")
    page.fill("#subscribe-match", "CE01ISSM")
    page.select_option("#subscribe-mode", "both")
    page.click('#subscribe-form button[type="submit"]')
    page.wait_for_selector("#subscription-rows tr")
    cells = page.eval_on_selector_all(
        "#subscription-rows tr td", "cells => cells.map(c => c.textContent.trim())"
    )
    assert cells[:5] == ["E-mail", "ops@example.org", "CE01ISSM", "failed", "Both"]
    assert page.is_hidden("#subscriptions-error")

    page.click('#subscription-rows button[data-action="test"]')
    page.wait_for_function("document.getElementById('subscriptions-notice').textContent.includes('queued')")
    page.click('#subscription-rows button[data-action="delete"]')
    page.wait_for_selector("#subscriptions-empty", state="visible")
    assert site.get_json("/openapi.json")["paths"]["/ui/notifications"]


def test_a_flapping_stream_is_marked_on_its_instrument_page(page: Any, site: Site) -> None:
    stream_id = site.seeded.degraded_id
    engine = make_engine(site.monitor_url, site.settings)
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                update(DeployedStream).where(DeployedStream.id == stream_id).values(flapping_since=utcnow())
            )
    finally:
        engine.dispose()
    refdes = next(r for r, streams in site.seeded.statuses.items() if stream_id in streams)
    page.goto(f"{site.url}/ui/instrument/{refdes}")
    page.wait_for_selector(f'#stream-rows tr[data-id="{stream_id}"] .badge--flapping')
    assert page.locator("#stream-rows .badge--flapping").count() == 1
