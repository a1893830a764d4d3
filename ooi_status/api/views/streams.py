"""/stream: status of deployed streams, switching them on and off, their status history."""

from __future__ import annotations

from flask import Blueprint, Response, g, request, url_for

from ooi_status.api import changes, marks, monitor_session, queries, serializers
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.coalesce import shared_json
from ooi_status.api.validation import paging, stream_filter
from ooi_status.times import utcnow

bp = Blueprint("streams", __name__)


@bp.get("/stream")
@require_read
def list_streams() -> Response:
    where = stream_filter(request.args)
    return shared_json(
        lambda: {"status": serializers.deployed_streams(queries.streams(monitor_session(), where))}
    )


@bp.get("/stream/<id:stream_id>")
@require_read
def get_stream(stream_id: int) -> dict:
    return serializers.deployed_streams(queries.stream(monitor_session(), stream_id))[0]


@bp.put("/stream/<id:stream_id>/disable")
@require_write
def disable_stream(stream_id: int) -> dict:
    mark = marks.disable_mark(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    switched = changes.switch_stream(monitor_session(), stream_id, "disable", mark)
    return serializers.deployed_streams(switched)[0]


@bp.put("/stream/<id:stream_id>/enable")
@require_write
def enable_stream(stream_id: int) -> dict:
    return serializers.deployed_streams(changes.switch_stream(monitor_session(), stream_id, "enable"))[0]


@bp.put("/stream/<id:stream_id>/acknowledge")
@require_write
def acknowledge_stream(stream_id: int) -> dict:
    values = marks.acknowledgement(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    return serializers.deployed_streams(marks.acknowledge_stream(monitor_session(), stream_id, values))[0]


@bp.get("/stream/<id:stream_id>/history")
@require_read
def stream_history(stream_id: int) -> dict:
    limit, offset = paging(request.args)
    page = queries.history(monitor_session(), stream_id, limit, offset)
    more = offset + len(page.entries) < page.total and page.entries
    next_url = (
        url_for(".stream_history", stream_id=stream_id, limit=limit, offset=offset + limit) if more else None
    )
    return serializers.history_page(page, next_url)
