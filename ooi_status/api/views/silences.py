"""/silence: silences and maintenance windows (create, list, end early)."""

from __future__ import annotations

from flask import Blueprint, g, request

from ooi_status.api import serializers, silencing
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.context import monitor_session
from ooi_status.api.validation import read_json_object
from ooi_status.times import utcnow

bp = Blueprint("silences", __name__)


@bp.post("/silence")
@require_write
def create_silence() -> tuple[dict, int]:
    now = utcnow()
    wanted = silencing.parse_new_silence(read_json_object(request.get_data()), now)
    return serializers.silence(silencing.create(monitor_session(), wanted, g.api_key_name, now), now), 201


@bp.get("/silence")
@require_read
def list_silences() -> dict:
    now = utcnow()
    found = silencing.listing(monitor_session(), now, include_ended=silencing.include_ended(request.args))
    return {"silences": [serializers.silence(item, now) for item in found]}


@bp.delete("/silence/<id:silence_id>")
@require_write
def end_silence(silence_id: int) -> dict:
    now = utcnow()
    return serializers.silence(silencing.end(monitor_session(), silence_id, now), now)
