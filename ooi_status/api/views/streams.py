"""/stream: status of deployed streams, switching them on and off, their status history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, g, request, url_for

from ooi_status.api import changes, marks, queries, serializers
from ooi_status.api.answers import revision_cached, silence_epoch
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.context import monitor_session
from ooi_status.api.validation import ListQuery, list_query, paging
from ooi_status.times import utcnow

bp = Blueprint("streams", __name__)


@bp.get("/stream")
@require_read
@revision_cached(list_query, clock_key=silence_epoch)
def list_streams(query: ListQuery) -> dict[str, Any]:
    if query.page is None:
        return {"status": serializers.deployed_streams(queries.streams(monitor_session(), query.where))}
    listing, total = queries.stream_page(monitor_session(), query.where, query.page)
    return serializers.paged(
        "status", serializers.deployed_streams(listing), total, query, next_page(query, total)
    )


def next_page(query: ListQuery, total: int) -> str | None:
    """The URL of the page after this one (same filters, as normalised), or None on the last page."""
    page = query.page
    if page is None or page.offset + page.limit >= total:
        return None
    filters = {name: value for name, value in asdict(query.where).items() if value is not None}
    assert request.endpoint is not None
    return url_for(request.endpoint, **filters, limit=page.limit, offset=page.offset + page.limit)


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
@revision_cached(paging)
def stream_history(page: tuple[int, int], stream_id: int) -> dict[str, Any]:
    limit, offset = page
    found = queries.history(monitor_session(), stream_id, limit, offset)
    more = offset + len(found.entries) < found.total and found.entries
    next_url = (
        url_for(".stream_history", stream_id=stream_id, limit=limit, offset=offset + limit) if more else None
    )
    return serializers.history_page(found, next_url)
