"""/instrument: streams grouped by instrument with the rollup status, switching whole instruments."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, request

from ooi_status.api import changes, marks, queries, serializers
from ooi_status.api.answers import revision_cached, silence_epoch
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.context import current_settings, monitor_session
from ooi_status.api.queries import Instrument
from ooi_status.api.validation import ListQuery, list_query
from ooi_status.api.views.streams import next_page
from ooi_status.times import utcnow

bp = Blueprint("instruments", __name__)


def _now() -> datetime:
    """The app's clock (``CLOCK`` in the app config, as /available reads it; tests fix it)."""
    return (current_app.config.get("CLOCK") or utcnow)()


def instrument_clock(current: int) -> Hashable:
    """What of the clock an /instrument answer depends on: the silence boundaries passed, and the
    check interval we are in (the port-agent diagnosis is read at request time from counts that
    do not move the data revision, so a cached answer is at most one check interval old)."""
    return silence_epoch(current), int(_now().timestamp() // current_settings().CHECK_INTERVAL)


@bp.get("/instrument")
@require_read
@revision_cached(list_query, clock_key=instrument_clock)
def list_instruments(query: ListQuery) -> dict[str, Any]:
    found = queries.instruments(monitor_session(), query.where)
    if query.page is None:
        return serializers.instruments(_diagnosed(*found))
    page = _diagnosed(*found[query.page.offset : query.page.offset + query.page.limit])
    instruments = serializers.instruments(page)
    return serializers.paged("instruments", instruments, len(found), query, next_page(query, len(found)))


@bp.get("/instrument/<id:refdes_id>")
@require_read
def get_instrument(refdes_id: int) -> dict:
    return serializers.instrument(*_diagnosed(queries.instrument(monitor_session(), refdes_id)))


# ``refdes`` is the reference designator, or the instrument's numeric id.
@bp.put("/instrument/<path:refdes>/disable")
@require_write
def disable_instrument(refdes: str) -> dict:
    mark = marks.disable_mark(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    return serializers.instrument(
        *_diagnosed(changes.switch_instrument(monitor_session(), refdes, "disable", mark))
    )


@bp.put("/instrument/<path:refdes>/enable")
@require_write
def enable_instrument(refdes: str) -> dict:
    return serializers.instrument(*_diagnosed(changes.switch_instrument(monitor_session(), refdes, "enable")))


@bp.put("/instrument/<path:refdes>/acknowledge")
@require_write
def acknowledge_instrument(refdes: str) -> dict:
    values = marks.acknowledgement(marks.optional_body(request.get_data()), g.api_key_name, utcnow())
    acknowledged = marks.acknowledge_instrument(monitor_session(), refdes, values)
    return serializers.instrument(*_diagnosed(acknowledged))


def _diagnosed(*items: Instrument) -> list[Instrument]:
    return queries.diagnosed(monitor_session(), list(items), _now(), current_settings().RATE_WINDOW)
