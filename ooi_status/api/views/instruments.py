"""/instrument: streams grouped by instrument with the rollup status, switching whole instruments."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from ooi_status.api import changes, marks, monitor_session, queries, serializers
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.coalesce import shared_json
from ooi_status.api.validation import stream_filter
from ooi_status.times import utcnow

bp = Blueprint("instruments", __name__)


@bp.get("/instrument")
@require_read
def list_instruments() -> Response:
    where = stream_filter(request.args)
    return shared_json(
        lambda: {
            item.refdes: serializers.instrument(item)
            for item in queries.instruments(monitor_session(), where)
        }
    )


@bp.get("/instrument/<id:refdes_id>")
@require_read
def get_instrument(refdes_id: int) -> dict:
    return serializers.instrument(queries.instrument(monitor_session(), refdes_id))


# ``refdes`` is the reference designator, or the instrument's numeric id.
@bp.put("/instrument/<refdes>/disable")
@require_write
def disable_instrument(refdes: str) -> dict:
    mark = marks.disable_mark(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    return serializers.instrument(changes.switch_instrument(monitor_session(), refdes, "disable", mark))


@bp.put("/instrument/<refdes>/enable")
@require_write
def enable_instrument(refdes: str) -> dict:
    return serializers.instrument(changes.switch_instrument(monitor_session(), refdes, "enable"))


@bp.put("/instrument/<refdes>/acknowledge")
@require_write
def acknowledge_instrument(refdes: str) -> dict:
    values = marks.acknowledgement(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    return serializers.instrument(marks.acknowledge_instrument(monitor_session(), refdes, values))
