"""``ooi_status_monitor``: the monitor daemon's command line.

    ooi_status_monitor                    run: check every CHECK_INTERVAL, deliver events
    ooi_status_monitor --once             one check and one delivery, then exit
                                          (0: every dependency answered; 1: one did not)
    ooi_status_monitor --expected=FILE    load expected-stream intervals (CSV) and exit
    ooi_status_monitor --new-api-key NAME print a new API key and its settings line

Exit status 2: bad settings or arguments (one line names the setting and the file).
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from ooi_status import migrate
from ooi_status.config import Settings, mask_url, settings_or_exit
from ooi_status.db import Databases, describe_error, normalize_url
from ooi_status.keys import hash_api_key, new_api_key
from ooi_status.monitor.daemon import Daemon, configure_logging, run_once
from ooi_status.monitor.expected import ExpectedCsvError, read_expected_csv, upsert_expected

log = logging.getLogger("ooi_status.monitor")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ooi_status_monitor", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--expected", metavar="FILE.csv", help="load expected-stream intervals and exit")
    action.add_argument("--once", action="store_true", help="run one check and one delivery round and exit")
    action.add_argument("--new-api-key", metavar="NAME", help="print a new API key for writes and exit")
    return parser.parse_args(argv)


def migrate_if_configured(settings: Settings) -> None:
    """AUTO_MIGRATE: bring the monitor schema up to date (``alembic upgrade head``) before starting.

    A database that does not answer is left for the rounds to report (the daemon waits for it);
    --expected then fails with its own message.
    """
    sqlite = normalize_url(settings.MONITOR_URL).get_backend_name() == "sqlite"
    if settings.AUTO_MIGRATE == "never" or (settings.AUTO_MIGRATE == "sqlite" and not sqlite):
        return
    try:
        migrate.upgrade(settings.MONITOR_URL)
    except (SQLAlchemyError, OSError) as exc:
        log.error("monitor schema not migrated: %s", describe_error(exc))


def load_expected(settings: Settings, path: str) -> int:
    """Validate the whole file, then upsert it in one transaction; 1 on any error, nothing written."""
    try:
        rows = read_expected_csv(path)
    except ExpectedCsvError as exc:
        print(f"ooi_status_monitor: {exc}", file=sys.stderr)
        return 1
    databases = Databases(settings)
    try:
        with databases.monitor_session() as session, session.begin():
            created, updated = upsert_expected(session, rows)
    except SQLAlchemyError as exc:
        print(
            f"ooi_status_monitor: {path}: nothing written: the monitor database "
            f"{mask_url(settings.MONITOR_URL)} refused: {describe_error(exc)} "
            "(is its schema there? alembic upgrade head)",
            file=sys.stderr,
        )
        return 1
    finally:
        databases.dispose()
    unchanged = len(rows) - created - updated
    print(
        f"{path}: {len(rows)} expected streams: {created} created, {updated} updated, {unchanged} unchanged"
    )
    return 0


def print_new_key(name: str) -> int:
    if not name.strip():
        print("ooi_status_monitor: --new-api-key needs a name, e.g. --new-api-key ops", file=sys.stderr)
        return 2
    key = new_api_key()
    print(f"API key {name!r} (shown once, keep it secret): {key}")
    print(f"settings line: API_KEYS = {{{name!r}: {hash_api_key(key)!r}}}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.new_api_key is not None:
        return print_new_key(args.new_api_key)
    settings = settings_or_exit("ooi_status_monitor")
    configure_logging(settings)
    migrate_if_configured(settings)
    if args.expected:
        return load_expected(settings, args.expected)
    log.info(
        "monitor database %s, metadata %s (%s)",
        mask_url(settings.MONITOR_URL), mask_url(settings.METADATA_URL), settings.STREAM_SOURCE,
    )  # fmt: skip
    if args.once:
        return run_once(settings)
    daemon = Daemon(settings)
    daemon.install_signals()
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
