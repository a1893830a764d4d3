"""/instrument: streams grouped by instrument with the rollup status, switching whole instruments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ooi_status.api import changes, monitor_session, queries, serializers
from ooi_status.api.answers import revision_cached, silence_epoch
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.validation import ListQuery, list_query
from ooi_status.api.views.streams import next_page

bp = Blueprint("instruments", __name__)


@bp.get("/instrument")
@require_read
@revision_cached(list_query, clock_key=silence_epoch)
def list_instruments(query: ListQuery) -> dict[str, Any]:
    found = queries.instruments(monitor_session(), query.where)
    if query.page is None:
        return {item.refdes: serializers.instrument(item) for item in found}
    page = found[query.page.offset : query.page.offset + query.page.limit]
    instruments = {item.refdes: serializers.instrument(item) for item in page}
    return serializers.paged("instruments", instruments, len(found), query, next_page(query, len(found)))


@bp.get("/instrument/<id:refdes_id>")
@require_read
def get_instrument(refdes_id: int) -> dict:
    return serializers.instrument(queries.instrument(monitor_session(), refdes_id))


# ``refdes`` is the reference designator, or the instrument's numeric id.
@bp.put("/instrument/<refdes>/disable")
@require_write
def disable_instrument(refdes: str) -> dict:
    return serializers.instrument(changes.switch_instrument(monitor_session(), refdes, "disable"))


@bp.put("/instrument/<refdes>/enable")
@require_write
def enable_instrument(refdes: str) -> dict:
    return serializers.instrument(changes.switch_instrument(monitor_session(), refdes, "enable"))
