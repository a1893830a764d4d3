"""Every error of the API in one JSON shape: ``{"error": code, "message": text}``.

Views raise ApiError (or a subclass); HTTP errors raised by Flask/werkzeug (404 for
an unknown route, 405 naming the allowed methods, 413, ...) are rendered the same way. An
outage of a database or of a metadata source (SourceUnavailable: the metadata PostgreSQL
database or Cassandra) is a 503 whose message names what did not answer; a write that
breaks a database constraint (IntegrityError) is a 409. This is the one place that turns
an exception into a response: nothing ever reaches the client as an HTML page or a stack
trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ooi_status.api.context import current_settings
from ooi_status.db import database_name, failed_database, first_line, normalize_url
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


#: Methods every route answers by itself; the 405 message names those of the route only.
_IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})


def method_not_allowed_message(valid_methods: Iterable[str]) -> str:
    """``DELETE is not allowed on /expected/4; allowed: GET, PATCH`` (the Allow header has them all)."""
    allowed = sorted(set(valid_methods) - _IMPLICIT_METHODS) or sorted(valid_methods)
    return f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}"


def source_unavailable_message(exc: SourceUnavailable) -> str:
    """What did not answer (the source's own one-line account), and what to do about it."""
    detail = str(exc).strip() or "a metadata source did not answer"
    return f"{detail}; try again shortly (see /health)"


def database_named(exc: BaseException) -> str:
    """The database that raised ``exc``: its engine names it (ooi_status.db); a pool timeout,
    which no engine names, is the monitor database's (the only database the API queries itself;
    the metadata sources raise SourceUnavailable, which names theirs)."""
    named = failed_database(exc)
    if named:
        return named
    return database_name("monitor", normalize_url(current_settings().MONITOR_URL))


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked": the busy timeout (SQLITE_BUSY_TIMEOUT) passed while another
    connection held the write lock. The statement and its transaction were not applied."""
    orig = getattr(exc, "orig", None)
    return orig is not None and "database is locked" in str(orig)


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
        if isinstance(exc, MethodNotAllowed):
            message = method_not_allowed_message(exc.valid_methods or ())
        response = error_response(status, code, message)
        if status == 405 and (allow := exc.get_response().headers.get("Allow")):
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_down(exc: Exception) -> Response:
        database = database_named(exc)
        if is_locked(exc):
            log.warning("%s busy: %s", database, first_line(exc))
            return error_response(
                503,
                "database_busy",
                f"the {database} is busy: another process holds its write lock; nothing was changed, "
                "try again shortly",
            )
        log.warning("%s unavailable: %s", database, first_line(exc))
        return error_response(
            503, "database_unavailable", f"the {database} did not answer; try again shortly (see /health)"
        )

    @app.errorhandler(SourceUnavailable)
    def _source_down(exc: SourceUnavailable) -> Response:
        log.warning("metadata source unavailable: %s", exc)
        return error_response(503, "source_unavailable", source_unavailable_message(exc))

    @app.errorhandler(IntegrityError)
    def _conflict(exc: IntegrityError) -> Response:
        # The constraint and the values are for the log: the statement is not the client's business.
        log.warning("write refused by a database constraint: %s", first_line(exc.orig or exc))
        return error_response(
            409,
            "conflict",
            "the change conflicts with what the database already holds (a uniqueness or reference "
            "constraint); reload the object and try again",
        )

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Response:
        if exc.connection_invalidated:
            return _database_down(exc)
        database = database_named(exc)
        log.error("%s error: %s", database, first_line(exc))
        return error_response(503, "database_error", f"the {database} could not answer this request")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "unexpected error; it has been logged")
