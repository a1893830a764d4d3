"""One log line format for every ooi_status process (the monitor, the API's gunicorn, the demo).

``text``: ``2026-12-01T15:13:51.123Z INFO monitor[4242] ooi_status.monitor: leader: checking every 60 s``
(time in UTC, level, process name and pid, logger, message); ``json`` (LOG_FORMAT = "json"):
one JSON object per line with the same fields, for log shippers.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(program)s[%(process)d] %(name)s: %(message)s"


def _utc_time(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """The text line; ``program`` names the process (monitor, api, demo, db)."""

    def __init__(self, program: str) -> None:
        super().__init__(TEXT_FORMAT)
        self.program = program

    def format(self, record: logging.LogRecord) -> str:
        record.program = self.program
        return super().format(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, process, pid, logger, message (and exception)."""

    def __init__(self, program: str) -> None:
        super().__init__()
        self.program = program

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "process": self.program,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str, program: str) -> logging.Formatter:
    return JsonFormatter(program) if log_format == "json" else TextFormatter(program)


class _Handler(logging.StreamHandler):
    """The handler setup_logging installs (told apart from handlers others installed)."""


def setup_logging(
    log_format: str, level: str, program: str, stream: IO[str] | None = None, loggers: tuple[str, ...] = ()
) -> None:
    """Log to standard error in the one line format: ooi_status at ``level``, others at WARNING.

    Like logging.basicConfig, leaves alone a root logger someone else already equipped (a test
    runner); a second call (settings reloaded) replaces its own handler. ``loggers`` are set to
    INFO too (alembic's, for ooi_status_db).
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _Handler)]
    if ours or not root.handlers:
        for handler in ours:
            root.removeHandler(handler)
        handler = _Handler(stream or sys.stderr)
        handler.setFormatter(formatter(log_format, program))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    logging.getLogger("ooi_status").setLevel(level)
    for name in loggers:
        logging.getLogger(name).setLevel(logging.INFO)
