"""/report: fleet reports — uptime from the status history, coverage from the bins.

Parse → one call → JSON or CSV. Timestamps in the answers are UTC ``YYYY-MM-DD HH:MM:SS``;
durations are seconds.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.orm import Session

from ooi_status.api.answers import GZIP, IDENTITY, accepts_gzip, cached_body, encoded, revision_now
from ooi_status.api.arguments import choice
from ooi_status.api.auth import require_read
from ooi_status.api.context import monitor_session
from ooi_status.api.encoder import json_bytes, json_rows
from ooi_status.api.reports import FORMATS, coverage_window, csv_lines, csv_text, report_window
from ooi_status.coverage import SECONDS
from ooi_status.db import is_postgres
from ooi_status.reports import coverage_report
from ooi_status.reports.coverage_kept import KeptReports, kept_body
from ooi_status.reports.uptime import GROUPS, STATES, uptime
from ooi_status.reports.uptime_kept import KeptUptimes, kept_stream_rows
from ooi_status.times import format_timestamp, utcnow

bp = Blueprint("reports", __name__)

#: The name columns of each uptime group, before the seconds.
UPTIME_KEYS = {
    "stream": ("id", "refdes", "method", "stream"),
    "instrument": ("refdes",),
    "node": ("node", "instruments"),
    "site": ("site", "instruments"),
}


@bp.get("/report/uptime")
@require_read
def uptime_report() -> Response:
    """A window ending now ends at the start of this minute (the monitor's rounds are a minute
    apart), so the answer is the same all minute: it is kept whole (JSON or CSV) by data
    revision and window, gzip-compressed for clients that accept it (12,000 streams: 2.5 MB of
    JSON), and a request while neither moved answers the kept body. By stream on PostgreSQL, the
    first request after the revision moved probes the history again only for the streams whose
    history changed (ooi_status.reports.uptime_kept)."""
    now = (current_app.config.get("CLOCK") or utcnow)()
    window = report_window(request.args, now.replace(second=0, microsecond=0))
    group = choice(request.args, "group", GROUPS, "instrument")
    fmt = choice(request.args, "format", FORMATS, "json")
    cache, current = revision_now()

    def build() -> bytes:
        session = monitor_session()
        if group == "stream" and is_postgres(session):
            kept: KeptUptimes = current_app.extensions["ooi_status.uptime_kept"]
            span = window.stop - window.start
            rows = kept_stream_rows(session, kept.get(span), window.start, window.stop)
            kept.fit()
        else:
            rows = uptime(session, window.start, window.stop, group)
        if fmt == "csv":
            return csv_text((*UPTIME_KEYS[group], *STATES, "uptime_percent"), rows).encode()
        head = {
            "group": group,
            "start_time": format_timestamp(window.start),
            "stop_time": format_timestamp(window.stop),
        }
        return _json_with_rows(head, json_bytes(rows))

    key = ("report.uptime", group, fmt, window.start, window.stop)
    encoding = GZIP if accepts_gzip() else IDENTITY
    body = cached_body(cache, current, key, encoding, build)
    if fmt == "csv":
        return encoded(_csv(body, f"uptime-{group}"), encoding)
    return encoded(current_app.response_class(body, mimetype="application/json"), encoding)


#: The name columns of each coverage group, before the period.
COVERAGE_KEYS = {
    "stream": ("refdes", "method", "stream"),
    "instrument": ("refdes",),
    "site": ("site", "instruments"),
}


@bp.get("/report/coverage")
@require_read
def coverage() -> Response:
    """The rows are kept by data revision (the monitor's coverage upkeep moves it with every
    commit) and by what of the window they depend on: ``start``, and the latest period start
    before ``stop`` (the rows are the periods starting before stop). A request while neither
    moved answers the kept rows in the answer of its own window. The first request after the
    revision moved recomputes, on PostgreSQL and by stream or instrument, only the rows whose
    coverage rows changed (``_kept_body``)."""
    now = (current_app.config.get("CLOCK") or utcnow)()
    group = choice(request.args, "group", coverage_report.GROUPS, "instrument")
    by = choice(request.args, "by", coverage_report.BY, "month")
    fmt = choice(request.args, "format", FORMATS, "json")
    start, stop = coverage_window(request.args, now, by)
    cache, current = revision_now()
    session = monitor_session()
    key = ("report.coverage", group, by, fmt, start, coverage_report.last_period_start(session, by, stop))
    header = (*COVERAGE_KEYS[group], by, "start", "stop", *SECONDS, "present_percent")

    def build() -> bytes:
        if group != "site" and is_postgres(session):
            return _kept_body(session, (group, by, fmt, start), stop, header)
        rows = coverage_report.coverage_report(session, group, by, start, stop)
        if fmt == "csv":
            return csv_text(header, rows).encode()
        return json_bytes(rows)

    body = cached_body(cache, current, key, IDENTITY, build)
    if fmt == "csv":
        return _csv(body, f"coverage-{group}-{by}")
    head = {
        "group": group,
        "by": by,
        "start_time": None if start is None else format_timestamp(start),
        "stop_time": format_timestamp(stop),
    }
    answer = _json_with_rows(head, body)
    return current_app.response_class(answer, mimetype="application/json")


def _json_with_rows(head: dict[str, Any], rows: bytes) -> bytes:
    """The answer ``{**head, "rows": rows}`` as jsonify writes it (compact, a newline at the end),
    from the rows' JSON."""
    return b"".join((json_bytes(head)[:-1], b',"rows":', rows, b"}\n"))


def _kept_body(session: Session, shape: tuple[Any, ...], stop: datetime, header: tuple[str, ...]) -> bytes:
    """The rows of a coverage report by stream or instrument, from this process's kept rows
    (ooi_status.reports.coverage_kept): ``json_bytes(rows)`` or ``csv_text(header, rows)``."""
    group, by, fmt, start = shape
    kept: KeptReports = current_app.extensions["ooi_status.coverage_kept"]

    def encode(rows: list[dict[str, Any]]) -> list[bytes]:
        if fmt == "csv":
            return [line.encode() for line in csv_lines(header, rows)]
        return json_rows(rows)

    def join(parts: list[bytes]) -> bytes:
        if fmt == "csv":
            return csv_text(header, ()).encode() + b"".join(parts)
        return b"".join((b"[", b",".join(parts), b"]"))

    body = kept_body(session, kept.get(shape), (group, by, start, stop), encode, join)
    kept.fit()
    return body


def init_app(app: Flask, max_bytes: int) -> None:
    app.extensions["ooi_status.coverage_kept"] = KeptReports(max_bytes)
    app.extensions["ooi_status.uptime_kept"] = KeptUptimes(max_bytes)


def _csv(body: str | bytes, name: str) -> Response:
    response = Response(body, content_type="text/csv; charset=utf-8")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    return response
