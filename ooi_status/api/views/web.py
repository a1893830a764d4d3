"""The page for people: the fleet view at ``/``, one instrument at ``/ui/instrument/<refdes>``, and
the fleet's coverage and uptime reports at ``/ui/reports``.

The views only render a shell (templates under api/web/templates); the page reads the
same JSON routes as every other client (/instrument, /available, /stream/<id>/history)
and writes through them with the operator's key. Nothing here queries statuses.

An instrument page answers 404 when the refdes is malformed or unknown to the monitor, to
the stream source and to the metadata database: a friendly HTML page for browsers, the
API's JSON error for clients that prefer JSON. When a metadata source cannot answer, the
page is served anyway and reports the outage from its own requests. Where reads need a key
(API_REQUIRE_KEY_FOR_READS), a page is a shell that reveals nothing: every well-formed refdes
gets the same page, known or not (a browser sends no key with a page request), and the page
says what the JSON routes answer once given the key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from ooi_status import __version__
from ooi_status.api.context import current_settings, metadata_sources, monitor_session
from ooi_status.api.errors import error_response
from ooi_status.api.health import max_heartbeat_age
from ooi_status.model.monitor import ReferenceDesignator
from ooi_status.sources.base import SourceUnavailable, instrument_exists, split_refdes

bp = Blueprint("web", __name__)

#: Statuses in the order the page shows them (best first), with their labels.
STATUS_LABELS = {
    "operational": "Operational",
    "degraded": "Degraded",
    "failed": "Failed",
    "notTracked": "Not tracked",
}


def page_config(**extra: Any) -> dict[str, Any]:
    """What the page's scripts need from the settings, handed over as JSON."""
    settings = current_settings()
    labels = settings.AVAILABILITY_LABELS
    return {
        "checkInterval": settings.CHECK_INTERVAL,
        # Older than this, the monitor's last check round makes the page say statuses may be stale.
        "healthMaxAge": max_heartbeat_age(settings),
        "statuses": STATUS_LABELS,
        # Legend order: from data present to data missing, then "not expected".
        "categories": [
            {"label": labels[key], "color": settings.AVAILABILITY_COLORS.get(labels[key], "#999999")}
            for key in ("present", "sparse1", "sparse2", "sparse3", "missing", "not_expected")
        ],
        "deploymentColors": list(settings.DEPLOYMENT_COLORS),
        **extra,
    }


@bp.get("/")
def fleet() -> str:
    return render_template("fleet.html", config=page_config(), version=__version__)


@bp.get("/ui/notifications")
def notifications() -> str:
    """Subscriptions to e-mail and chat messages; the page reads and writes /subscription."""
    config = page_config(digestHour=current_settings().DIGEST_HOUR)
    return render_template("notifications.html", config=config, version=__version__)


@bp.get("/ui/reports")
def reports() -> str:
    return render_template("reports.html", config=page_config(), version=__version__)


@bp.get("/ui/instrument/<path:refdes>")
def instrument(refdes: str) -> str | Response:
    if split_refdes(refdes) is None:
        return not_found(refdes)
    if not current_settings().API_REQUIRE_KEY_FOR_READS and not instrument_known(refdes):
        return not_found(refdes)
    return render_template(
        "instrument.html", refdes=refdes, config=page_config(refdes=refdes), version=__version__
    )


def instrument_known(refdes: str) -> bool:
    """Known to the monitor, to the configured stream source (a stream) or to the metadata database
    (a deployment); True when unsure."""
    if split_refdes(refdes) is None:
        return False
    if monitor_session().scalar(select(ReferenceDesignator.id).where(ReferenceDesignator.name == refdes)):
        return True
    sources = metadata_sources()
    try:
        return instrument_exists(refdes, sources.streams, sources.deployments)
    except SourceUnavailable:
        return True


def not_found(refdes: str) -> Response:
    message = f"no instrument {refdes!r}: not monitored and unknown to the stream and metadata databases"
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if best == "application/json":
        return error_response(404, "not_found", message)
    body = render_template("not_found.html", refdes=refdes, config=page_config(), version=__version__)
    return Response(body, status=404, mimetype="text/html")
