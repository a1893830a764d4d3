"""GET /available/<refdes>: an instrument's data-availability timeline (spec API.md).

Parse the arguments → build the timeline → serialize it as JSON (visavail.js layout),
CSV, TSV or SVG. Every answer carries ``Cache-Control`` and an ``ETag`` (a hash of the
body), and a matching ``If-None-Match`` gets a 304 without a body. The app config may
hold ``CLOCK``, a function returning the current aware UTC datetime (tests fix it).
Reads need a key when the server requires one (auth.require_read); errors, a source that
does not answer included, are rendered by ooi_status.api.errors like every other route's.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, current_app, request

from ooi_status.api import current_databases, current_settings
from ooi_status.api.auth import require_read
from ooi_status.api.availability import build_timeline, metadata_sources, parse_query
from ooi_status.availability_report import Style, Timeline, delimited, visavail
from ooi_status.availability_svg import render_svg
from ooi_status.times import utcnow

bp = Blueprint("availability", __name__)

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
}


@bp.get("/available/<refdes>")
@require_read
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
    # Behind a key, a shared cache must not hand the timeline to clients without one.
    scope = "private" if settings.API_REQUIRE_KEY_FOR_READS else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={int(settings.AVAILABILITY_CACHE_SECONDS)}"
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
