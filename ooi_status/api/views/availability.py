"""GET /available/<refdes>: an instrument's data-availability timeline (spec API.md).

Parse the arguments → read the deployments and stream rows → the ETag → (304, or) compute
the timeline → serialize it as JSON (visavail.js layout), CSV, TSV or SVG. "Now" is taken at
minute resolution, so an answer whose window ends now is stable within a minute. The ETag is
the version of the answer's inputs (ooi_status.api.availability.TimelineInputs), known before
any bin is read: a matching ``If-None-Match`` gets a 304 at the cost of two small reads (shared
by the identical requests that arrive while they run: ooi_status.api.coalesce.FreshReads).
Answers are kept by ETag and encoding in each process (a quarter of API_ANSWER_CACHE_BYTES)
and gzip-compressed for clients that accept it. The app config may
hold ``CLOCK``, a function returning the current aware UTC datetime (tests fix it).
Reads need a key when the server requires one (auth.require_read); errors, a source that
does not answer included, are rendered by ooi_status.api.errors like every other route's.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, current_app, request

from ooi_status import __version__
from ooi_status.api.answers import GZIP, IDENTITY, AnswerCache, accepts_gzip, cached_body, encoded
from ooi_status.api.auth import require_read
from ooi_status.api.availability import (
    AvailabilityQuery,
    TimelineInputs,
    compute_timeline,
    parse_query,
    read_inputs,
)
from ooi_status.api.coalesce import fresh_read
from ooi_status.api.context import current_settings, metadata_sources
from ooi_status.api.encoder import json_bytes
from ooi_status.availability.engine import Timeline
from ooi_status.availability.report import Style, delimited, visavail
from ooi_status.availability.svg import render_svg
from ooi_status.config import Settings
from ooi_status.times import utcnow

bp = Blueprint("availability", __name__)

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
}


@bp.get("/available/<path:refdes>")
@require_read
def available(refdes: str) -> Response:
    query = parse_query(refdes, request.args)
    settings = current_settings()
    sources = metadata_sources()
    clock = current_app.config.get("CLOCK") or utcnow
    minute = clock().replace(second=0, microsecond=0)

    def read() -> tuple[TimelineInputs, str]:
        inputs = read_inputs(query, sources, settings, minute)
        return inputs, _etag(inputs, settings)

    # Identical requests arriving together share one read of the inputs begun after they arrived.
    inputs, etag = fresh_read(("available", query, minute), read)
    if request.if_none_match.contains_weak(etag):
        return _headers(current_app.response_class(status=304), query, etag, settings)
    cache: AnswerCache = current_app.extensions["ooi_status.available_answers"]
    encoding = GZIP if accepts_gzip() else IDENTITY

    def build() -> bytes:
        timeline = compute_timeline(inputs, sources, settings)
        return serialize(timeline, Style.from_settings(settings), query.format)

    # Kept by ETag (the inputs' version, a fixed "revision" 0); a missed answer is computed once
    # for the identical requests under way.
    body = cached_body(cache, 0, etag, encoding, build)
    response = encoded(Response(body, content_type=CONTENT_TYPES[query.format]), encoding)
    return _headers(response, query, etag, settings)


def _headers(response: Response, query: AvailabilityQuery, etag: str, settings: Settings) -> Response:
    if query.format in ("csv", "tsv"):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", query.refdes)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}-availability.{query.format}"'
    # Behind a key, a shared cache must not hand the timeline to clients without one.
    scope = "private" if settings.API_REQUIRE_KEY_FOR_READS else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={int(settings.AVAILABILITY_CACHE_SECONDS)}"
    response.set_etag(etag, weak=True)
    response.vary.add("Accept-Encoding")
    return response


def _etag(inputs: TimelineInputs, settings: Settings) -> str:
    """The answer's version, known before any bin is read: the query, the window (its open end at
    minute resolution), the deployments, the selected streams' stream_metadata rows (count, first,
    last: they move with every new point) and the settings that shape the answer."""
    text = repr((_shaping(settings), inputs.version()))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_SHAPING = ("AVAILABILITY_", "DEPLOYMENT_", "GAP_", "MIN_BINS", "SPARSE_")


def _shaping(settings: Settings) -> str:
    """The version and the settings that shape an answer, as text: made once per app (its
    settings do not change while it runs)."""
    kept = current_app.extensions.get("ooi_status.available_shaping")
    if kept is None or kept[0] is not settings:
        shaping = sorted((k, repr(v)) for k, v in settings.items() if k.startswith(_SHAPING))
        kept = (settings, repr((__version__, shaping)))
        current_app.extensions["ooi_status.available_shaping"] = kept
    return kept[1]


def serialize(timeline: Timeline, style: Style, fmt: str) -> bytes:
    """The body of one format, as bytes (the ETag is their hash)."""
    if fmt == "json":
        return json_bytes(visavail(timeline, style))
    if fmt == "svg":
        text = render_svg(timeline, style)
    else:
        text = delimited(timeline, style, "," if fmt == "csv" else "\t")
    return text.encode("utf-8")
