"""The HTTP API: ``create_app()`` builds it; ``ooi_status.api:app`` is what gunicorn serves.

Settings are loaded when the app is built; database engines are made lazily in the
process that first uses them (after gunicorn forks its workers), never at import.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from ooi_status.api import answers, auth, body, coalesce, context, errors, metrics, security
from ooi_status.api.context import (
    MAX_BODY_BYTES,
    current_databases,
    current_settings,
    metadata_session,
    monitor_session,
)
from ooi_status.api.encoder import FastJSONProvider
from ooi_status.api.errors import BadRequest
from ooi_status.api.validation import repeated_parameter
from ooi_status.api.views import (
    availability,
    deployed,
    expected,
    instruments,
    operations,
    port,
    reports,
    silences,
    streams,
    subscriptions,
    web,
)
from ooi_status.config import Settings, load_settings, settings_or_exit

log = logging.getLogger(__name__)


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id of at most 10 digits; a longer one is no route (404), never a number
    too large for a database parameter. (A range check raising ValidationError would make werkzeug
    answer 405 for the other methods of the route, hence the pattern.)"""

    regex = r"\d{1,10}"


def create_app(settings: Settings | None = None, **flask_config: Any) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.json = FastJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config.update(flask_config)
    app.config["JSON_SORT_KEYS"] = False
    app.url_map.converters["id"] = IdConverter
    context.init_app(app, settings)
    logging.getLogger("ooi_status").setLevel(settings.LOG_LEVEL)

    errors.init_app(app)
    coalesce.init_app(app)
    answers.init_app(app, settings.API_ANSWER_CACHE_BYTES)
    reports.init_app(app, settings.API_ANSWER_CACHE_BYTES)
    auth.init_app(app, settings)
    metrics.init_app(app)
    security.init_app(app)
    app.before_request(body.read_chunked_body)
    app.before_request(_refuse_nul_bytes)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    return app


def blueprints() -> list[Any]:
    """Every blueprint of the API, in one visible table (api/views/, one module per resource family)."""
    return [
        expected.bp,
        deployed.bp,
        streams.bp,
        instruments.bp,
        silences.bp,
        operations.bp,
        availability.bp,
        reports.bp,
        web.bp,
        subscriptions.bp,
        port.bp,
    ]


def _refuse_nul_bytes() -> None:
    # A NUL byte can be in a URL but not in a PostgreSQL string: refuse it before it reaches one.
    # One rule for every route: a query parameter given twice is a 400 (never first-wins).
    repeated = repeated_parameter(request.args)
    if repeated is not None:
        count = len(request.args.getlist(repeated))
        raise BadRequest(f"{repeated}: given {count} times; give it at most once")
    for name, value in [*request.args.items(multi=True), *(request.view_args or {}).items()]:
        if "\x00" in str(name) or "\x00" in str(value):
            raise BadRequest(f"{name}: NUL bytes are not allowed in parameters")


def _log_through_gunicorn() -> None:
    """ooi_status's log lines go where gunicorn's error log goes (standard error by default)."""
    server_log = logging.getLogger("gunicorn.error")
    ours = logging.getLogger("ooi_status")
    if server_log.handlers and not ours.handlers:
        for handler in server_log.handlers:
            ours.addHandler(handler)
        ours.propagate = False


def _app_for_gunicorn() -> Flask:
    if os.environ.get("PSYCOGREEN", "").lower() in ("1", "true", "yes"):
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    _log_through_gunicorn()
    return create_app(settings_or_exit("ooi_status API"))


def __getattr__(name: str) -> Any:
    # ``ooi_status.api:app`` is built on first access, not at import of the package.
    if name == "app":
        globals()["app"] = _app_for_gunicorn()
        return globals()["app"]
    raise AttributeError(name)


__all__ = [
    "MAX_BODY_BYTES",
    "create_app",
    "current_settings",
    "current_databases",
    "monitor_session",
    "metadata_session",
]
