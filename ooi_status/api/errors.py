"""Every error of the API in one JSON shape: ``{"error": code, "message": text}``.

Views raise ApiError (or a subclass); HTTP errors raised by Flask/werkzeug (404 for
an unknown route, 405, 413, ...) and outages of a database or of the stream metadata
source (SourceUnavailable: PostgreSQL or Cassandra) are rendered the same way, as 503.
Nothing ever reaches the client as an HTML page or a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ooi_status.sources.base import SourceUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    """No usable key: the response names the scheme to use (WWW-Authenticate)."""

    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="ooi_status"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        if status == 404:
            message = "no such resource; see /openapi.json for the routes"
        response = error_response(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_down(exc: Exception) -> Response:
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        return error_response(
            503, "database_unavailable", "a database did not answer; try again shortly (see /health)"
        )

    @app.errorhandler(SourceUnavailable)
    def _source_down(exc: SourceUnavailable) -> Response:
        # The detail (which cluster or database, why) is for the log, not for clients.
        log.warning("stream metadata source unavailable: %s", exc)
        return error_response(
            503, "source_unavailable", "the stream metadata source did not answer; try again shortly"
        )

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Response:
        if exc.connection_invalidated:
            return _database_down(exc)
        log.error("database error: %s", str(exc).splitlines()[0])
        return error_response(503, "database_error", "the database could not answer this request")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "unexpected error; it has been logged")
