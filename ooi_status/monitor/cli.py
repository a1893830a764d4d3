"""``ooi_status_monitor``: the monitor daemon's command line.

    ooi_status_monitor                    run: check every CHECK_INTERVAL, deliver events
    ooi_status_monitor --once             one check and one delivery, then exit
                                          (0: every dependency answered; 1: one did not)
    ooi_status_monitor --expected=FILE    load expected-stream intervals (CSV) and exit
    ooi_status_monitor --new-api-key NAME print a new API key and its settings line
    ooi_status_monitor --notify-preview   print what the next notification step and the
                                          next daily digests would send, and exit

Exit status 2: bad settings or arguments (one line names the setting and the file).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status import migrate
from ooi_status.config import Settings, mask_url, settings_or_exit
from ooi_status.db import Databases, describe_error, normalize_url
from ooi_status.keys import hash_api_key, new_api_key
from ooi_status.monitor.check import run_round
from ooi_status.monitor.daemon import DEPENDENCY_ERRORS, Daemon, Monitor, configure_logging, run_once
from ooi_status.monitor.digest_facts import digest_facts
from ooi_status.monitor.expected import ExpectedCsvError, read_expected_csv, upsert_expected
from ooi_status.monitor.notify import plan_round
from ooi_status.notify.digest import digest_message
from ooi_status.notify.messages import Audience, Message, format_time
from ooi_status.notify.subscriptions import audiences
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.monitor")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ooi_status_monitor", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--expected", metavar="FILE.csv", help="load expected-stream intervals and exit")
    action.add_argument("--once", action="store_true", help="run one check and one delivery round and exit")
    action.add_argument("--new-api-key", metavar="NAME", help="print a new API key for writes and exit")
    action.add_argument(
        "--notify-preview", action="store_true", help="print the next round's messages and the next digests"
    )
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


def notify_preview(settings: Settings, now: datetime | None = None) -> int:
    """Print what the next round would send: a check round and its notification step run at
    ``now`` in a transaction that is rolled back (nothing written, nothing sent); then every
    digest subscription's digest as it would read after that round."""
    now = now or utcnow()
    monitor = Monitor(settings)
    try:
        with monitor.databases.monitor_session() as session:
            try:
                run_round(monitor.source(), session, now, settings)
                plan = plan_round(session, now, settings)
                facts = digest_facts(session, now)
                digests = [(who, digest_message(facts, who)) for who in digest_audiences(session)]
            finally:
                session.rollback()
    except DEPENDENCY_ERRORS as exc:
        print(f"ooi_status_monitor: --notify-preview: {describe_error(exc)}", file=sys.stderr)
        return 1
    finally:
        monitor.close()
    print(f"== Next round: changes since {format_time(plan.start)}: {len(plan.messages)} message(s)")
    _print_messages(plan.messages)
    print(f"\n== Next daily digests ({settings.DIGEST_HOUR:02d}:00 UTC): {len(digests)} message(s)")
    _print_messages(digests)
    return 0


def digest_audiences(session: Session) -> list[Audience]:
    return [who for who, _row in audiences(session, ("digest", "both"))]


def _print_messages(messages: list[tuple[Audience, Message]]) -> None:
    for who, message in messages:
        print(f"\n--- subscription {who.id}: {who.kind} to {who.target}")
        print(f"Subject: {message.subject}\n")
        print(message.text, end="")


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
    if args.notify_preview:
        return notify_preview(settings)
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
