"""GET /available/<refdes>: an instrument's data-availability timeline (spec API.md).

Parse the arguments → build the timeline → serialize it as JSON (visavail.js layout),
CSV, TSV or SVG. Every answer carries ``Cache-Control`` and an ``ETag`` (a hash of the
body), and a matching ``If-None-Match`` gets a 304 without a body. The app config may
hold ``CLOCK``, a function returning the current aware UTC datetime (tests fix it).
"""

from __future__ import annotations

import hashlib
import logging
import re

from flask import Blueprint, Response, current_app, request

from ooi_status.api import current_databases, current_settings
from ooi_status.api.availability import build_timeline, metadata_sources, parse_query
from ooi_status.api.errors import error_response
from ooi_status.availability_report import Style, Timeline, delimited, visavail
from ooi_status.availability_svg import render_svg
from ooi_status.sources.base import SourceUnavailable
from ooi_status.times import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("availability", __name__)

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
}


@bp.get("/available/<refdes>")
def available(refdes: str) -> Response:
    query = parse_query(refdes, request.args)
    settings = current_settings()
    sources = metadata_sources(current_app.extensions, settings, current_databases())
    clock = current_app.config.get("CLOCK") or utcnow
    timeline = build_timeline(query, sources, settings, clock())
    body = serialize(timeline, Style.from_settings(settings), query.format)
    response = Response(body, content_type=CONTENT_TYPES[query.format])
    if query.format in ("csv", "tsv"):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", refdes)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}-availability.{query.format}"'
    response.headers["Cache-Control"] = f"public, max-age={int(settings.AVAILABILITY_CACHE_SECONDS)}"
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest())
    return response.make_conditional(request)


def serialize(timeline: Timeline, style: Style, fmt: str) -> bytes:
    """The body of one format, as bytes (the ETag is their hash)."""
    if fmt == "json":
        text = current_app.json.dumps(visavail(timeline, style), separators=(",", ":"))
    elif fmt == "svg":
        text = render_svg(timeline, style)
    else:
        text = delimited(timeline, style, "," if fmt == "csv" else "\t")
    return text.encode("utf-8")


@bp.errorhandler(SourceUnavailable)
def _metadata_unavailable(exc: SourceUnavailable) -> Response:
    log.warning("metadata source unavailable: %s", exc)
    return error_response(
        503, "metadata_unavailable", "the metadata database did not answer; try again shortly (see /health)"
    )
