"""/deployed: one stream of one instrument, with its optional overrides."""

from __future__ import annotations

from flask import Blueprint, request

from ooi_status.api import changes, queries, serializers
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.context import monitor_session
from ooi_status.api.validation import patch_changes, read_json_object

bp = Blueprint("deployed", __name__)


@bp.get("/deployed/<id:deployed_id>")
@require_read
def get_deployed(deployed_id: int) -> dict:
    return serializers.deployed_streams(queries.stream(monitor_session(), deployed_id))[0]


@bp.patch("/deployed/<id:deployed_id>")
@require_write
def patch_deployed(deployed_id: int) -> dict:
    wanted = patch_changes(read_json_object(request.get_data()), deployed_id, nullable=True)
    return serializers.deployed_streams(changes.patch_deployed(monitor_session(), deployed_id, wanted))[0]
