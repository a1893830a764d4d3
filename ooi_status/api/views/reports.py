"""/report: fleet reports — uptime from the status history, coverage from the bins.

Parse → one call → JSON or CSV. Timestamps in the answers are UTC ``YYYY-MM-DD HH:MM:SS``;
durations are seconds.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, request

from ooi_status.api.auth import require_read
from ooi_status.api.context import monitor_session
from ooi_status.api.reports import FORMATS, choice, coverage_window, csv_text, report_window
from ooi_status.coverage import SECONDS
from ooi_status.reports import coverage_report
from ooi_status.reports.uptime import GROUPS, STATES, uptime
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
    now = (current_app.config.get("CLOCK") or utcnow)()
    window = report_window(request.args, now)
    group = choice(request.args, "group", GROUPS, "instrument")
    fmt = choice(request.args, "format", FORMATS, "json")
    rows = uptime(monitor_session(), window.start, window.stop, group)
    if fmt == "csv":
        header = (*UPTIME_KEYS[group], *STATES, "uptime_percent")
        return _csv(csv_text(header, rows), f"uptime-{group}")
    return jsonify(
        {
            "group": group,
            "start_time": format_timestamp(window.start),
            "stop_time": format_timestamp(window.stop),
            "rows": rows,
        }
    )


#: The name columns of each coverage group, before the period.
COVERAGE_KEYS = {
    "stream": ("refdes", "method", "stream"),
    "instrument": ("refdes",),
    "site": ("site", "instruments"),
}


@bp.get("/report/coverage")
@require_read
def coverage() -> Response:
    now = (current_app.config.get("CLOCK") or utcnow)()
    group = choice(request.args, "group", coverage_report.GROUPS, "instrument")
    by = choice(request.args, "by", coverage_report.BY, "month")
    fmt = choice(request.args, "format", FORMATS, "json")
    start, stop = coverage_window(request.args, now, by)
    rows = coverage_report.coverage_report(monitor_session(), group, by, start, stop)
    if fmt == "csv":
        header = (*COVERAGE_KEYS[group], by, "start", "stop", *SECONDS, "present_percent")
        return _csv(csv_text(header, rows), f"coverage-{group}-{by}")
    return jsonify(
        {
            "group": group,
            "by": by,
            "start_time": None if start is None else format_timestamp(start),
            "stop_time": format_timestamp(stop),
            "rows": rows,
        }
    )


def _csv(body: str, name: str) -> Response:
    response = Response(body, content_type="text/csv; charset=utf-8")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    return response
