"""Loading and validating settings.

defaults (default_settings.py) ← the Python file named by OOISTATUS_SETTINGS ←
environment variables ``OOISTATUS_<NAME>``. Loaded by a function, never at import.
Every problem is a SettingsError naming the setting and where its value came from
(``defaults``, ``settings file <path>``, ``environment variable OOISTATUS_<NAME>``,
``overrides``); the command-line entry points print it and exit with status 2.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ooi_status import default_settings

ENV_PREFIX = "OOISTATUS_"
SETTINGS_ENV = "OOISTATUS_SETTINGS"
#: ``OOISTATUS_`` variables that are not settings and are not refused: the settings file,
#: run_gunicorn.sh's knobs, and the test suite's switches (every ``OOISTATUS_TEST_*``, and
#: OOISTATUS_REGENERATE_GOLDEN of the notification message tests).
ENV_ALLOWED = frozenset({SETTINGS_ENV, "OOISTATUS_WORKERS", "OOISTATUS_BIND", "OOISTATUS_ACCESS_LOG",
                         "OOISTATUS_ERROR_LOG", "OOISTATUS_REGENERATE_GOLDEN"})  # fmt: skip
ENV_ALLOWED_PREFIXES = ("OOISTATUS_TEST_",)
_DEFAULTS = "defaults"

# Settings whose default is None: the type a value must have when set.
_NULLABLE_TYPES: dict[str, type] = {
    "MONITOR_URL": str,
    "METADATA_URL": str,
    "LOCK_FILE": str,
    "CASSANDRA_USERNAME": str,
    "CASSANDRA_PASSWORD": str,
    "HEALTH_MAX_HEARTBEAT_AGE": float,
    "SMTP_USERNAME": str,
    "SMTP_PASSWORD": str,
    "AMQP_URL": str,
}
_CHOICES = {
    "AUTO_MIGRATE": ("sqlite", "always", "never"),
    "STREAM_SOURCE": ("postgres", "cassandra"),
    "LOG_LEVEL": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    "SMTP_SECURITY": ("none", "starttls", "tls"),
    "LOG_FORMAT": ("text", "json"),
}
_POSITIVE = (
    "CHECK_INTERVAL",
    "NOTIFY_INTERVAL",
    "NOTIFY_TIMEOUT",
    "RATE_WINDOW",
    "DB_STATEMENT_TIMEOUT",
    "SQLITE_BUSY_TIMEOUT",
    "DB_POOL_SIZE",
    "CASSANDRA_FETCH_SIZE",
    "CASSANDRA_REQUEST_TIMEOUT",
    "DELIVERY_BATCH_SIZE",
    "CLAIM_LEASE",
    "NOTIFY_GROUP_MIN",
    "FLAP_CHANGES",
    "FLAP_WINDOW",
    "SMTP_PORT",
    "PORT_COUNT_RAW_DAYS",
    "PORT_COUNT_HOURLY_DAYS",
    "PORT_COUNT_BATCH_SIZE",
    "PORT_COUNT_BATCH_SECONDS",
    "AMQP_RECONNECT_MAX",
    "PORT_COUNT_UPKEEP_INTERVAL",
    "PORT_COUNT_UPKEEP_BATCH",
    "COVERAGE_BUDGET_SECONDS",
    "COVERAGE_REFRESH_SECONDS",
)


class SettingsError(Exception):
    """A setting is unknown, of the wrong type, or unusable."""


def defaults() -> dict[str, Any]:
    return {k: v for k, v in vars(default_settings).items() if k.isupper()}


class Settings(Mapping[str, Any]):
    """Read-only settings with attribute access (``settings.CHECK_INTERVAL``).

    ``source`` is the settings file (or ``defaults``); ``origin(name)`` is where one value came from.
    """

    def __init__(
        self, values: Mapping[str, Any], source: str = "defaults", origins: Mapping[str, str] | None = None
    ) -> None:
        self._values = dict(values)
        self.source = source
        self._origins = dict(origins or {})

    def origin(self, name: str) -> str:
        """Where the value of ``name`` came from, as error messages name it."""
        return self._origins.get(name, _DEFAULTS)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated like any other source)."""
        values = dict(self._values)
        origins = {name: self.origin(name) for name in values}
        for name, value in changes.items():
            values[name] = _check(name, value, "replace()")
            origins[name] = "replace()"
        return _finish(values, self.source, origins)

    @property
    def monitor_url(self) -> str:
        return self._values["MONITOR_URL"]

    @property
    def metadata_url(self) -> str:
        return self._values["METADATA_URL"]


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build validated settings; raises SettingsError."""
    environ = os.environ if environ is None else environ
    values = defaults()
    origins = dict.fromkeys(values, _DEFAULTS)
    source = _DEFAULTS
    path = environ.get(SETTINGS_ENV)
    if path:
        source = path
        where = f"settings file {path}"
        for name, value in _read_file(path).items():
            values[name] = _check(name, value, where)
            origins[name] = where
    for key, text in environ.items():
        if not key.startswith(ENV_PREFIX) or key in ENV_ALLOWED or key.startswith(ENV_ALLOWED_PREFIXES):
            continue
        name = key[len(ENV_PREFIX) :]
        if name not in values:
            raise SettingsError(
                f"environment variable {key}: unknown setting {name} (see ooi_status/default_settings.py; "
                f"other OOISTATUS_ variables allowed: {', '.join(sorted(ENV_ALLOWED))}, OOISTATUS_TEST_*)"
            )
        values[name] = _parse_env(name, text, values[name], key)
        origins[name] = f"environment variable {key}"
    for name, value in (overrides or {}).items():
        values[name] = _check(name, value, "overrides")
        origins[name] = "overrides"
    return _finish(values, source, origins)


def _read_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise SettingsError(f"settings file {path} (from {SETTINGS_ENV}) cannot be read: no such file")
    try:
        namespace = runpy.run_path(str(file))
    except OSError as exc:
        raise SettingsError(f"settings file {path} cannot be read: {exc.strerror}") from None
    except SyntaxError as exc:
        raise SettingsError(f"settings file {path}, line {exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:  # the file is user code: any failure is a settings problem
        raise SettingsError(f"settings file {path} failed to run: {type(exc).__name__}: {exc}") from None
    return {k: v for k, v in namespace.items() if k.isupper()}


def _expected_type(name: str) -> type | None:
    known = defaults()
    if name not in known:
        return None
    default = known[name]
    return _NULLABLE_TYPES.get(name, type(default)) if default is None else type(default)


def _check(name: str, value: Any, where: str) -> Any:
    expected = _expected_type(name)
    if expected is None:
        raise SettingsError(f"{where}: unknown setting {name} (see ooi_status/default_settings.py)")
    if value is None and name in _NULLABLE_TYPES:
        return None
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise SettingsError(
            f"{where}: setting {name} must be {expected.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _parse_env(name: str, text: str, current: Any, key: str) -> Any:
    expected = _expected_type(name)
    where = f"environment variable {key}"
    try:
        if expected is bool:
            lowered = text.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(text)
            value: Any = lowered in ("1", "true", "yes", "on")
        elif expected is int:
            value = int(text)
        elif expected is float:
            value = float(text)
        elif expected is list:
            stripped = text.strip()
            value = (
                json.loads(stripped)
                if stripped.startswith("[")
                else [part.strip() for part in stripped.split(",") if part.strip()]
            )
        elif expected is dict:
            value = json.loads(text)
        else:
            value = text
    except ValueError:
        assert expected is not None
        raise SettingsError(f"{where}: setting {name} must be {expected.__name__}, got {text!r}") from None
    return _check(name, value, where)


def consistency_level(name: str) -> int:
    """A consistency level by name in any case (``LOCAL_ONE``, ``quorum``), or SettingsError."""
    from cassandra import ConsistencyLevel  # the driver's constants module only: no I/O, no threads

    try:
        return ConsistencyLevel.name_to_value[name.upper()]
    except KeyError:
        names = ", ".join(sorted(ConsistencyLevel.name_to_value))
        raise SettingsError(f"CASSANDRA_CONSISTENCY: unknown level {name!r}; one of {names}") from None


def _finish(values: dict[str, Any], source: str, origins: dict[str, str]) -> Settings:
    def where(name: str) -> str:
        return origins.get(name, _DEFAULTS)

    data_dir = Path(values["DATA_DIR"])
    for name, file_name in (("MONITOR_URL", "monitor.sqlite"), ("METADATA_URL", "metadata.sqlite")):
        if values[name] is None:
            values[name] = f"sqlite:///{data_dir / file_name}"
            origins[name] = where("DATA_DIR")
    if values["LOCK_FILE"] is None:
        values["LOCK_FILE"] = str(data_dir / "monitor.lock")
        origins["LOCK_FILE"] = where("DATA_DIR")
    for name in ("MONITOR_URL", "METADATA_URL"):
        try:
            make_url(values[name])
        except ArgumentError:
            raise SettingsError(
                f"{where(name)}: setting {name} is not a database URL SQLAlchemy understands: "
                f"{values[name]!r}"
            ) from None
    for name, choices in _CHOICES.items():
        if values[name] not in choices:
            raise SettingsError(
                f"{where(name)}: setting {name} must be one of {', '.join(choices)}, got {values[name]!r}"
            )
    try:
        consistency_level(values["CASSANDRA_CONSISTENCY"])
    except SettingsError as exc:
        raise SettingsError(f"{where('CASSANDRA_CONSISTENCY')}: setting {exc}") from None
    for name in _POSITIVE:
        if values[name] <= 0:
            raise SettingsError(f"{where(name)}: setting {name} must be greater than 0, got {values[name]!r}")
    if not 0 <= values["NOTIFY_HOLD"] <= values["FLAP_WINDOW"]:
        raise SettingsError(
            f"{where('NOTIFY_HOLD')}: setting NOTIFY_HOLD must be from 0 to FLAP_WINDOW "
            f"({values['FLAP_WINDOW']!r}) seconds, got {values['NOTIFY_HOLD']!r}"
        )
    if not 0 <= values["DIGEST_HOUR"] <= 23:
        raise SettingsError(
            f"{where('DIGEST_HOUR')}: setting DIGEST_HOUR must be an hour from 0 to 23, "
            f"got {values['DIGEST_HOUR']!r}"
        )
    for name in ("MONITORED_METHODS", "WEBHOOK_URLS", "CASSANDRA_CONTACT_POINTS"):
        if not all(isinstance(item, str) for item in values[name]):
            raise SettingsError(f"{where(name)}: setting {name} must be a list of strings")
    return Settings(values, source, origins)


def settings_or_exit(program: str) -> Settings:
    """Settings for a command: on any problem one line naming the program, and exit status 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"{program}: settings error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def mask_url(url: str) -> str:
    """A database URL fit for logs: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def display_url(url: str) -> str:
    """A URL fit for logs and last_error: no user info, and no path or query (webhook
    paths and queries often carry tokens)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<malformed URL>"
    rest = "/..." if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}"
