"""The page shows the port agent's diagnosis (instrument and fleet views) and its bytes per second."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.web.conftest import Site
from ooi_status import port_store
from ooi_status.db import make_engine
from ooi_status.port_counts import PortCountRecord
from ooi_status.times import utcnow

RECEIVING = "port agent receiving 412 B/s: data arrives but no particles are stored (ingest or parser)"


def failed_refdes(site: Site) -> str:
    return next(r for r, streams in site.seeded.statuses.items() if site.seeded.failed_id in streams)


def store_counts(site: Site, refdes: str) -> int:
    """Counts of the hour ending a minute ago, 412 B/s each (the API's clock is real). None ends
    at the page's own "now": the page asks for [now - 24 h, now) with now rounded to the second,
    which could fall on a count's end and leave it out."""
    last = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    records = [PortCountRecord(refdes, last - timedelta(minutes=m), 60.0, 24_720, 0, 0, 1) for m in range(60)]
    engine = make_engine(site.monitor_url, site.settings)
    try:
        with Session(engine) as session, session.begin():
            port_store.store_counts(session, records)
    finally:
        engine.dispose()
    return len(records)


def test_instrument_view_shows_the_diagnosis_and_the_byte_rate(page: Any, site: Site) -> None:
    refdes = failed_refdes(site)
    assert site.seeded.overall()[refdes] == "failed"
    stored = store_counts(site, refdes)
    page.goto(f"{site.url}/ui/instrument/{refdes}")
    page.wait_for_selector("#instrument-diagnosis:not([hidden])")
    assert page.text_content("#instrument-diagnosis") == RECEIVING
    page.wait_for_selector("#port-chart svg polyline", state="attached")  # a flat line has no height
    assert page.get_attribute("#port-chart", "data-points") == str(stored)
    assert page.get_attribute("#port-csv", "href").endswith("&format=csv")


def test_an_instrument_without_port_statistics_says_so(page: Any, site: Site) -> None:
    refdes = failed_refdes(site)
    page.goto(f"{site.url}/ui/instrument/{refdes}")
    page.wait_for_function("document.getElementById('port-chart').dataset.points === '0'")
    assert page.is_hidden("#instrument-diagnosis")
    assert page.text_content("#port-chart") == "No port-agent counts in the last 24 hours."


def test_fleet_view_shows_the_diagnosis_beside_the_status(page: Any, site: Site) -> None:
    refdes = failed_refdes(site)
    store_counts(site, refdes)
    page.goto(f"{site.url}/")
    row = f'#fleet-rows tr[data-refdes="{refdes}"]'
    page.wait_for_selector(f"{row} .diagnosis")
    assert page.text_content(f"{row} .diagnosis") == RECEIVING
    assert page.locator("#fleet-rows .diagnosis").count() == 1  # only where there are port statistics
