"""The page routes: the fleet view at /, an instrument page, and its 404 for browsers and clients."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.factories import CTD
from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings

PAGE_CONFIG = re.compile(r'<script id="page-config" type="application/json">(.*?)</script>', re.S)


def page_config(html: str) -> dict:
    match = PAGE_CONFIG.search(html)
    assert match, "the page hands its settings to the scripts as JSON"
    return json.loads(match.group(1))


@pytest.mark.sqlite_only
def test_fleet_page_is_html_with_its_scripts_and_settings(
    client: FlaskClient, api_settings: Settings
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'id="fleet-table"' in html
    for asset in ("style.css", "common.js", "fleet.js"):
        assert f"/static/{asset}?v=" in html
    config = page_config(html)
    assert config["checkInterval"] == api_settings.CHECK_INTERVAL
    assert config["statuses"] == {
        "operational": "Operational",
        "degraded": "Degraded",
        "failed": "Failed",
        "notTracked": "Not tracked",
    }
    assert [c["label"] for c in config["categories"]] == [
        "Present",
        "Sparsity Level 1",
        "Sparsity Level 2",
        "Sparsity Level 3",
        "Missing",
        "Not Expected",
    ]
    assert config["deploymentColors"] == api_settings.DEPLOYMENT_COLORS


@pytest.mark.sqlite_only
def test_page_refreshes_at_the_configured_check_interval(api_settings: Settings) -> None:
    app = create_app(api_settings.replace(CHECK_INTERVAL=15), TESTING=True)
    html = app.test_client().get("/").get_data(as_text=True)
    assert page_config(html)["checkInterval"] == 15


def test_pages_load_nothing_from_other_hosts(client: FlaskClient, fleet: dict[str, int]) -> None:
    for url in ("/", f"/ui/instrument/{CTD}"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("asset", "mimetype"),
    [
        ("style.css", "text/css"),
        ("common.js", "text/javascript"),
        ("fleet.js", "text/javascript"),
        ("instrument.js", "text/javascript"),
        ("timeline.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_are_served(client: FlaskClient, asset: str, mimetype: str) -> None:
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    response.close()


def test_instrument_page_of_a_monitored_instrument(client: FlaskClient, fleet: dict[str, int]) -> None:
    response = client.get(f"/ui/instrument/{CTD}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<title>{CTD} · " in html
    assert page_config(html)["refdes"] == CTD
    assert 'id="timeline"' in html and 'id="stream-rows"' in html


def test_instrument_page_of_an_instrument_only_the_metadata_knows(
    client: FlaskClient, empty_metadata_db: Any, now: datetime
) -> None:
    observatory = demo.demo_observatory(now, instruments=2, history_days=30)
    demo.write_observatory(empty_metadata_db.engine, observatory)
    refdes = observatory.refdes_list()[0]
    assert client.get(f"/ui/instrument/{refdes}").status_code == 200


UNKNOWN = "CE02SHBP-LJ01D-06-NOSUCH000"


@pytest.mark.parametrize("refdes", [UNKNOWN, "not-a-refdes-because-too-long-parts", "nodash"])
def test_unknown_instrument_is_a_friendly_html_404(client: FlaskClient, refdes: str) -> None:
    response = client.get(f"/ui/instrument/{refdes}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Instrument not found" in html and 'href="/"' in html


def test_unknown_instrument_is_the_json_error_for_json_clients(client: FlaskClient) -> None:
    response = client.get(f"/ui/instrument/{UNKNOWN}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert UNKNOWN in body["message"]


@pytest.mark.sqlite_only
def test_refdes_in_the_page_is_escaped(client: FlaskClient) -> None:
    response = client.get("/ui/instrument/<script>alert(1)</script>-X-Y")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.sqlite_only
def test_page_is_served_when_the_metadata_database_cannot_answer(api_settings: Settings) -> None:
    # Nothing listens on port 1: the lookup fails at once; the page's own requests report the outage.
    app = create_app(api_settings.replace(METADATA_URL="postgresql://nobody@127.0.0.1:1/none"), TESTING=True)
    response = app.test_client().get("/ui/instrument/RS01SLBS-LJ01A-05-HPIESA101")
    assert response.status_code == 200
    with app.app_context():
        current_databases().dispose()


@pytest.mark.sqlite_only
def test_openapi_describes_both_pages(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" in paths and "/ui/instrument/{refdes}" in paths
