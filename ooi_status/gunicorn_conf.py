"""gunicorn settings of the ooi_status API: ``gunicorn -c python:ooi_status.gunicorn_conf ...``.

run_gunicorn.sh and ooi_status_demo use it; the command line adds bind, workers and logs.

- No control socket: gunicorn 25+ opens one at a per-user default path, which two servers
  on one host would fight over.
- Metrics of all workers add up: PROMETHEUS_MULTIPROC_DIR (created if missing, its old files
  removed at start; a private temporary directory, removed at exit, when it is not set) is
  where every worker writes its HTTP counters and histograms, and where /metrics reads them.
- gunicorn's own log lines (error and access log) use ooi_status's line format (LOG_FORMAT).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

from gunicorn.glogging import Logger as _GunicornLogger

from ooi_status.logs import formatter

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

control_socket_disable = True

_made: list[str] = []


def _log_format() -> str:
    from ooi_status.config import SettingsError, load_settings

    try:
        return load_settings().LOG_FORMAT
    except SettingsError:
        return "text"  # the app reports bad settings itself when it loads


class Logger(_GunicornLogger):
    """gunicorn's logger with ooi_status's line format for both of its logs."""

    def _set_handler(
        self, log: logging.Logger, output: Any, fmt: logging.Formatter, stream: Any = None
    ) -> None:
        super()._set_handler(log, output, formatter(_log_format(), "api"), stream=stream)


logger_class = Logger


def on_starting(server: Any) -> None:
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))
    else:
        path = tempfile.mkdtemp(prefix="ooi_status-metrics-")
        os.environ[MULTIPROC_ENV] = path
        _made.append(path)
    server.log.info("metrics of all workers in %s=%s", MULTIPROC_ENV, path)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
