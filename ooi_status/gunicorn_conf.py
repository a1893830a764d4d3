"""gunicorn settings of the ooi_status API: ``gunicorn -c python:ooi_status.gunicorn_conf ...``.

run_gunicorn.sh and ooi_status_demo use it; the command line adds bind, workers and logs.

- No control socket: gunicorn 25+ opens one at a per-user default path, which two servers
  on one host would fight over.
- Metrics of all workers add up: PROMETHEUS_MULTIPROC_DIR (created if missing, its old files
  removed at start; a private temporary directory, removed at exit, when it is not set) is
  where every worker writes its HTTP counters and histograms, and where /metrics reads them.
- gunicorn's own log lines (error and access log) use ooi_status's line format (LOG_FORMAT).
- An access log line costs only the atoms its format names: gunicorn makes every atom of every
  request (each request and response header, each environ variable) and escapes them all, a
  tenth of the CPU time of a kept answer; here each is made when the line's format asks for it,
  with the same text (AccessAtoms).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger as _GunicornLogger
from gunicorn.glogging import SafeAtoms

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
    """gunicorn's logger with ooi_status's line format for both of its logs, and access log atoms
    made on demand."""

    def _set_handler(
        self, log: logging.Logger, output: Any, fmt: logging.Formatter, stream: Any = None
    ) -> None:
        super()._set_handler(log, output, formatter(_log_format(), "api"), stream=stream)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> Any:
        return AccessAtoms(self, resp, req, environ, request_time)

    @staticmethod
    def atoms_wrapper_class(atoms: Any) -> Any:
        return atoms  # AccessAtoms escapes and fills in "-" itself


_MISSING = object()


def _last(pairs: Any, key: str, suffix: str) -> Any:
    """The value of the last pair whose name makes ``key`` as gunicorn names it (``{name}`` lower-cased
    and ``suffix``), else _MISSING."""
    found = _MISSING
    for name, value in pairs.items() if hasattr(pairs, "items") else pairs:
        if f"{{{name.lower()}}}{suffix}" == key:
            found = value
    return found


def _user(atoms: AccessAtoms) -> Any:
    return atoms.logger._get_user(atoms.environ) or "-"


def _status(atoms: AccessAtoms) -> Any:
    status = atoms.resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _sent(atoms: AccessAtoms) -> Any:
    return getattr(atoms.resp, "sent", None)


def _line(atoms: AccessAtoms) -> str:
    environ = atoms.environ
    return f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"


#: gunicorn's atoms (glogging.Logger.atoms) but the headers and environ ones, by name.
_PLAIN: dict[str, Callable[[AccessAtoms], Any]] = {
    "h": lambda a: a.environ.get("REMOTE_ADDR", "-"),
    "l": lambda a: "-",
    "u": _user,
    "t": lambda a: a.logger.now(),
    "r": _line,
    "s": _status,
    "m": lambda a: a.environ.get("REQUEST_METHOD"),
    "U": lambda a: a.environ.get("PATH_INFO"),
    "q": lambda a: a.environ.get("QUERY_STRING"),
    "H": lambda a: a.environ.get("SERVER_PROTOCOL"),
    "b": lambda a: _sent(a) is not None and str(_sent(a)) or "-",
    "B": _sent,
    "f": lambda a: a.environ.get("HTTP_REFERER", "-"),
    "a": lambda a: a.environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda a: a.spent.seconds,
    "D": lambda a: a.spent.seconds * 1_000_000 + a.spent.microseconds,
    "M": lambda a: a.spent.seconds * 1000 + int(a.spent.microseconds / 1000),
    "L": lambda a: f"{a.spent.seconds:d}.{a.spent.microseconds:06d}",
    "p": lambda a: f"<{os.getpid()}>",
}


class AccessAtoms(Mapping[str, Any]):
    """gunicorn's access log atoms (``glogging.Logger.atoms`` wrapped in ``SafeAtoms``: the same
    values, ``"`` escaped in texts, ``-`` for an unknown one), each made when a format asks for it."""

    logger: _GunicornLogger
    resp: Any
    req: Any
    environ: dict[str, Any]
    spent: timedelta

    def __init__(
        self, logger: _GunicornLogger, resp: Any, req: Any, environ: dict[str, Any], spent: timedelta
    ) -> None:
        self.logger, self.resp, self.req, self.environ, self.spent = logger, resp, req, environ, spent

    def __getitem__(self, key: str) -> Any:
        if key.startswith("{"):
            value = self._braced(key.lower())
        else:
            make = _PLAIN.get(key)
            value = "-" if make is None else make(self)
        return value.replace('"', '\\"') if isinstance(value, str) else value

    def _braced(self, key: str) -> Any:
        value = _MISSING
        if key.endswith("}i"):
            value = _last(getattr(self.req, "headers", self.req), key, "i")
        elif key.endswith("}o"):
            value = _last(self.resp.headers, key, "o")
        elif key.endswith("}e"):
            value = _last(self.environ, key, "e")
        return "-" if value is _MISSING else value

    def _all(self) -> dict[str, Any]:
        made = _GunicornLogger.atoms(self.logger, self.resp, self.req, self.environ, self.spent)
        return dict(SafeAtoms(made))

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __bool__(self) -> bool:
        return True  # logging formats with a lone mapping argument only when it is true


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
