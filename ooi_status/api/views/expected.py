"""/expected: default rate and intervals per stream name and delivery method."""

from __future__ import annotations

from flask import Blueprint, request

from ooi_status.api import changes, queries, serializers
from ooi_status.api.answers import revision_cached
from ooi_status.api.auth import require_read, require_write
from ooi_status.api.context import monitor_session
from ooi_status.api.validation import expected_filter, patch_changes, read_json_object

bp = Blueprint("expected", __name__)


@bp.get("/expected")
@require_read
@revision_cached(expected_filter)
def list_expected(where: tuple[str | None, str | None]) -> dict:
    method, stream = where
    found = queries.expected_streams(monitor_session(), method, stream)
    return {"expected_streams": [serializers.expected_stream(item) for item in found]}


@bp.get("/expected/<id:expected_id>")
@require_read
def get_expected(expected_id: int) -> dict:
    return serializers.expected_stream(queries.expected_stream(monitor_session(), expected_id))


@bp.patch("/expected/<id:expected_id>")
@require_write
def patch_expected(expected_id: int) -> dict:
    wanted = patch_changes(read_json_object(request.get_data()), expected_id, nullable=False)
    return serializers.expected_stream(changes.patch_expected(monitor_session(), expected_id, wanted))
