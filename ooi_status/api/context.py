"""What a request works with: the settings, the databases, its sessions and the metadata sources.

One place for the accessors every view uses, and for what each process keeps between requests:

- the settings and the ``Databases`` are made by ``create_app`` (``init_app``) and kept in the
  app's extensions; the engines connect lazily, in the process that first uses them;
- a request's sessions (``monitor_session``, ``metadata_session``) are made on first use and
  closed when the request ends (``close_sessions``, a teardown);
- the metadata sources (streams and bins, deployments, the bins kept for reuse) are made on
  first use in each process and kept in the extensions with the pid that made them: a reader
  holding a connection pool or a cluster session belongs to the process that made it, so a
  forked worker makes its own;
- a write committed through a request's monitor session starts a new generation of the
  coalescer (ooi_status.api.coalesce): reads arriving after it never join a computation that
  began before it. Watching the session, rather than each view, keeps every write covered.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from ooi_status.api import coalesce
from ooi_status.config import Settings
from ooi_status.db import Databases, first_line
from ooi_status.sources import deployment_source, stream_source
from ooi_status.sources.base import DeploymentSource, StreamSource
from ooi_status.sources.bin_cache import BinCache

#: Largest request body accepted (PATCH bodies are a few dozen bytes).
MAX_BODY_BYTES = 64 * 1024

_SETTINGS = "ooi_status.settings"
_DATABASES = "ooi_status.databases"
_SOURCES = "ooi_status.sources"
_WROTE = "ooi_status.wrote"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MetadataSources:
    """The readers of one process: streams and bins, deployments, and the bins kept for reuse."""

    streams: StreamSource
    deployments: DeploymentSource
    bin_cache: BinCache


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[_SETTINGS] = settings
    app.extensions[_DATABASES] = Databases(settings, sqlite_busy_timeout=settings.SQLITE_BUSY_TIMEOUT)
    app.teardown_appcontext(close_sessions)


def current_settings() -> Settings:
    return current_app.extensions[_SETTINGS]


def current_databases() -> Databases:
    return current_app.extensions[_DATABASES]


def metadata_sources() -> MetadataSources:
    """This process's metadata sources, made on first use (again after a fork)."""
    extensions = current_app.extensions
    cached = extensions.get(_SOURCES)
    if cached is None or cached[0] != os.getpid():
        settings, databases = current_settings(), current_databases()
        sources = MetadataSources(
            stream_source(settings, databases),
            deployment_source(databases),
            BinCache(settings.AVAILABILITY_BIN_CACHE_ROWS, settings.AVAILABILITY_CACHE_SECONDS),
        )
        cached = extensions[_SOURCES] = (os.getpid(), sources)
    return cached[1]


def monitor_session() -> Session:
    """This request's session on the monitor database, closed when the request ends."""
    if "monitor_session" not in g:
        session = Session(current_databases().monitor, expire_on_commit=False)
        event.listen(session, "do_orm_execute", _note_statement)
        event.listen(session, "after_flush", _note_flush)
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
        g.monitor_session = session
    return g.monitor_session


def metadata_session() -> Session:
    """This request's session on the OOI metadata database (read-only), closed when the request ends."""
    if "metadata_session" not in g:
        g.metadata_session = Session(current_databases().metadata)
    return g.metadata_session


def close_sessions(_exc: BaseException | None) -> None:
    """Always runs, error or not: the connection goes back to the pool, any transaction rolled back.

    The answer is made by then: a failure here (the connection died after the request's last
    query, and rolling back on it fails) is logged, never turned into the answer. SQLAlchemy has
    invalidated such a connection; the pool makes a new one for a later request."""
    for name in ("monitor_session", "metadata_session"):
        session = g.pop(name, None)
        if session is None:
            continue
        try:
            session.close()
        except Exception as exc:
            log.warning("closing the request's %s failed: %s", name.replace("_", " "), first_line(exc))


def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


def _note_flush(session: Session, _flush_context: Any) -> None:
    session.info[_WROTE] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        coalesce.invalidate()


def _after_rollback(session: Session) -> None:
    session.info.pop(_WROTE, None)
