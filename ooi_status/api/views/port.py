"""/instrument/<refdes>/port: an instrument's port-agent byte counts (api/port.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from ooi_status import port_store
from ooi_status.api import port
from ooi_status.api.auth import require_read
from ooi_status.api.context import monitor_session
from ooi_status.times import utcnow

bp = Blueprint("port", __name__)


@bp.get("/instrument/<path:refdes>/port")
@require_read
def port_counts(refdes: str) -> Response | dict[str, Any]:
    query = port.parse_query(request.args, (current_app.config.get("CLOCK") or utcnow)())
    session = monitor_session()
    name = port.known_refdes(session, refdes)
    points = port_store.port_series(session, name, query.start, query.stop)
    if query.format == "csv":
        response = Response(port.as_csv(points), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}-port.csv"'
        return response
    return port.as_json(name, query, points)
