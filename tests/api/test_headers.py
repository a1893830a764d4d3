"""Security headers on every answer, a Content-Security-Policy on the pages, redirects that never
take their host from the request, page routes that reveal nothing behind a read key, and
reference designators containing "/" on every route that takes one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import factories
from api.factories import CTD
from ooi_status import demo
from ooi_status.api import create_app
from ooi_status.model.monitor import DeployedStream, ReferenceDesignator
from ooi_status.times import datetime_to_ntp

TEMPLATES = Path(__file__).resolve().parents[2] / "ooi_status" / "api" / "web" / "templates"

#: Headers and routing follow no database rule: these run on SQLite only.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


def answers(client: FlaskClient, fleet: dict[str, int], auth: dict[str, str]) -> dict[str, object]:
    """One answer of every kind: JSON, an error, a 304, CSV, a page, a static file, /metrics."""
    listed = client.get("/stream")
    found = {
        "json": listed,
        "404": client.get("/no/such/route"),
        "400": client.get("/stream?limit=x"),
        "401": client.put(f"/stream/{fleet['ctd_sample']}/disable"),
        "304": client.get("/stream", headers={"If-None-Match": listed.headers["ETag"]}),
        "write": client.put(f"/stream/{fleet['ctd_sample']}/enable", headers=auth),
        "page": client.get("/"),
        "page 404": client.get("/ui/instrument/CE01ISSM-MFD35-04-UNKNOWN00"),
        "static": client.get("/static/common.js"),
        "metrics": client.get("/metrics"),
        "openapi": client.get("/openapi.json"),
        "redirect": client.get(f"/stream//{fleet['ctd_sample']}"),
    }
    for response in found.values():
        response.close()
    return found


@sqlite_only
def test_every_answer_says_nosniff_and_its_referrer_policy(client, fleet, auth):
    for name, response in answers(client, fleet, auth).items():
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        assert response.headers.get("Referrer-Policy") == "same-origin", name


@sqlite_only
def test_pages_carry_a_policy_that_allows_no_inline_script_and_no_framing(client, fleet, auth):
    for name, response in answers(client, fleet, auth).items():
        policy = response.headers.get("Content-Security-Policy")
        if response.mimetype != "text/html":
            continue
        assert policy, name
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", name
        assert directives["frame-ancestors"] == "'none'", name
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
        assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"


def test_templates_hold_no_inline_script_and_no_event_handler_attribute():
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        for script in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            attributes, content = script.groups()
            assert "src=" in attributes or 'type="application/json"' in attributes, template.name
            assert "src=" not in attributes or not content.strip(), template.name
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name


@sqlite_only
def test_a_redirect_never_names_the_host_of_the_request(client, fleet):
    ident = fleet["ctd_sample"]
    response = client.get(f"/stream//{ident}?x=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == f"/stream/{ident}?x=1"
    assert "evil.example" not in response.get_data(as_text=True)
    assert response.get_json()["error"] == "moved"
    # A path that would read as another host keeps one leading slash.
    response = client.get("//evil.example//stream", headers={"Host": "evil.example"})
    location = response.headers.get("Location", "/")
    assert not location.startswith("//") and "://" not in location, location
    followed = client.get(f"/stream//{ident}", follow_redirects=True)
    assert followed.status_code == 200 and followed.get_json()["id"] == ident


@sqlite_only
def test_behind_a_read_key_a_page_does_not_tell_known_from_unknown_instruments(api_settings, fleet):
    locked = create_app(api_settings.replace(API_REQUIRE_KEY_FOR_READS=True), TESTING=True).test_client()
    known = locked.get(f"/ui/instrument/{CTD}")
    unknown = locked.get("/ui/instrument/CE01ISSM-MFD35-04-UNKNOWN00")
    assert known.status_code == unknown.status_code == 200
    assert known.mimetype == unknown.mimetype == "text/html"
    # The same page but for the refdes echoed from the URL.
    unknown_text = unknown.get_data(as_text=True).replace("CE01ISSM-MFD35-04-UNKNOWN00", CTD)
    assert known.get_data(as_text=True) == unknown_text
    for path in ("/", "/ui/reports", "/ui/notifications"):
        assert locked.get(path).status_code == 200
    # Reads stay closed without the key, and a malformed refdes is refused alike for every one.
    assert locked.get(f"/available/{CTD}").status_code == 401
    assert locked.get("/ui/instrument/not-a-refdes-at/all/too-long-a-part-here").status_code == 404
    # Where reads are open the page still tells them apart.
    open_client = create_app(api_settings, TESTING=True).test_client()
    assert open_client.get(f"/ui/instrument/{CTD}").status_code == 200
    assert open_client.get("/ui/instrument/CE01ISSM-MFD35-04-UNKNOWN00").status_code == 404


SLASHED = "CE01ISSM-MFD35-04/ADCPTM000"


@sqlite_only
def test_a_reference_designator_with_a_slash_is_served_and_addressed(
    client, fleet, auth, monitor_db, empty_metadata_db, now
):
    """/available, the port counts and the whole-instrument writes take it, raw or %2F-encoded."""
    with Session(monitor_db.engine) as session, session.begin():
        expected = factories.expected(session, "slashed_sample", warn_interval=120, fail_interval=600)
        factories.deployed(session, SLASHED, expected, "operational", status_time=now, last_data_time=now)
    observatory = demo.Observatory()
    observatory.add_deployment(SLASHED, 1, now.replace(year=now.year - 1), None, "SLASHED-00001")
    day = datetime_to_ntp(now) - 86_400
    observatory.add_stream(SLASHED, "streamed", "slashed_sample", [(int(day), 100, day, day + 3600)])
    demo.write_observatory(empty_metadata_db.engine, observatory)

    for spelled in (SLASHED, SLASHED.replace("/", "%2F")):
        available = client.get(f"/available/{spelled}")
        assert available.status_code == 200, available.get_json()
        measures = {row["measure"] for row in available.get_json()["availability"]}
        assert measures == {"Deployments", "streamed slashed_sample"}
        port = client.get(f"/instrument/{spelled}/port")
        assert port.status_code in (200, 404), port.get_json()
        assert port.get_json().get("message", "") != "no such resource; see /openapi.json for the routes"
    disabled = client.put(f"/instrument/{SLASHED}/disable", headers=auth)
    assert disabled.status_code == 200, disabled.get_json()
    acknowledged = client.put(f"/instrument/{SLASHED}/acknowledge", headers=auth)  # nothing failing: 409
    assert acknowledged.status_code == 409 and "acknowledge" in acknowledged.get_json()["message"]

    def switched_off() -> bool:
        with Session(monitor_db.engine) as session:
            row = session.scalars(
                select(DeployedStream).join(ReferenceDesignator).where(ReferenceDesignator.name == SLASHED)
            ).one()
            return row.warn_interval == 0 and row.fail_interval == 0

    assert switched_off()
    assert client.put(f"/instrument/{SLASHED.replace('/', '%2F')}/enable", headers=auth).status_code == 200
    assert not switched_off()
    # Routes of other instruments are not taken for it.
    assert client.put(f"/instrument/{CTD}/enable", headers=auth).status_code == 200
