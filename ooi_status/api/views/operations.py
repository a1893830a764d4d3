"""Operations: /health for load balancers and people, /metrics for Prometheus, /openapi.json."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ooi_status.api import metrics, openapi
from ooi_status.api.auth import authenticate, require_read
from ooi_status.api.context import current_databases, current_settings, metadata_sources
from ooi_status.api.health import health
from ooi_status.times import utcnow

bp = Blueprint("operations", __name__)


@bp.get("/health")
def get_health() -> tuple[Response, int]:
    settings, databases = current_settings(), current_databases()
    streams = metadata_sources().streams
    healthy, report = health(databases, settings, utcnow(), streams)
    return jsonify(report), 200 if healthy else 503


@bp.get("/metrics")
@require_read
def get_metrics() -> Response:
    return metrics.exposition(current_app._get_current_object())  # type: ignore[attr-defined]


@bp.get("/openapi.json")
def get_openapi() -> dict:
    return openapi.document()


@bp.get("/key")
def get_key() -> dict:
    """Whether the presented API key is a configured one, and its name: the page checks a key
    here before keeping it (401 without a key, 403 for one that is not configured)."""
    return {"name": authenticate(current_settings(), "checking a key")}
