"""The ``ooi_status_monitor`` command: the monitor daemon, --once, --expected, --new-api-key,
--notify-preview and --build-coverage (the coverage of every stream, with a progress bar)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status import commands, migrate
from ooi_status.config import Settings, mask_url, settings_or_exit
from ooi_status.db import Databases, describe_error, normalize_url
from ooi_status.keys import SCOPES, WRITE, api_key_entry, new_api_key
from ooi_status.monitor.build_coverage import build_coverage
from ooi_status.monitor.check import run_round
from ooi_status.monitor.daemon import (
    DEPENDENCY_ERRORS,
    BeforeCheck,
    Daemon,
    Monitor,
    configure_logging,
    run_once,
)
from ooi_status.monitor.digest_facts import digest_facts
from ooi_status.monitor.entry import EarlyStop
from ooi_status.monitor.expected import ExpectedCsvError, read_expected_csv, upsert_expected
from ooi_status.monitor.notify import plan_round
from ooi_status.notify.digest import digest_message
from ooi_status.notify.messages import Audience, Message, format_time
from ooi_status.notify.subscriptions import audiences
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.monitor")

#: The OOI expected-intervals table shipped with the package (``--expected=builtin``).
BUILTIN_EXPECTED = Path(__file__).resolve().parent.parent / "data" / "streamed_expected.csv"

DESCRIPTION = """\
The ooi_status monitor: checks every deployed stream every CHECK_INTERVAL seconds and
delivers status events to the OOI events service and the WEBHOOK_URLS.

  ooi_status_monitor                      run until SIGTERM or Ctrl-C (SIGHUP reloads settings)
  ooi_status_monitor --once               one check and one delivery round, then exit
                                          (0: every dependency answered; 1: one did not)
  ooi_status_monitor --expected=builtin   load the OOI expected-intervals table shipped with
                                          the package (or --expected=FILE.csv), then exit
  ooi_status_monitor --new-api-key NAME   print a new API key and its settings line
  ooi_status_monitor --notify-preview     print what the next notification step and the
                                          next daily digests would send, and exit

Settings: OOISTATUS_SETTINGS (a Python file) and OOISTATUS_<NAME> variables.
Exit status 2: bad settings or arguments (one line names the setting and where it came from),
or an --expected file that cannot be read or is refused (one line names file, line and field).
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = commands.parser("ooi_status_monitor", DESCRIPTION)
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--expected",
        metavar="FILE.csv",
        help='load expected-stream intervals ("builtin": the OOI table) and exit',
    )
    action.add_argument("--once", action="store_true", help="run one check and one delivery round and exit")
    action.add_argument("--new-api-key", metavar="NAME", help="print a new API key and exit")
    action.add_argument(
        "--notify-preview", action="store_true", help="print the next round's messages and the next digests"
    )
    action.add_argument(
        "--build-coverage", action="store_true", help="compute the coverage of every stream and exit"
    )
    parser.add_argument(
        "--scope", choices=SCOPES, default=WRITE,
        help="with --new-api-key: read (reads only) or write (reads and writes)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.scope != WRITE and args.new_api_key is None:
        parser.error("--scope goes with --new-api-key")
    return args


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
    """Validate the whole file, then upsert it in one transaction; nothing written on any error:
    2 for a file that cannot be read or is refused (bad input), 1 when the database refused.

    ``builtin`` is the OOI table shipped with the package.
    """
    if path == "builtin":
        path = str(BUILTIN_EXPECTED)
    try:
        rows = read_expected_csv(path)
    except ExpectedCsvError as exc:
        print(f"ooi_status_monitor: {exc}", file=sys.stderr)
        return 2
    databases = Databases(settings)
    try:
        with databases.monitor_session() as session, session.begin():
            created, updated = upsert_expected(session, rows)
    except SQLAlchemyError as exc:
        print(
            f"ooi_status_monitor: {path}: nothing written: the monitor database "
            f"{mask_url(settings.MONITOR_URL)} refused: {describe_error(exc)} "
            "(is its schema there? ooi_status_db upgrade head)",
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


def print_new_key(name: str, scope: str = WRITE) -> int:
    if not name.strip():
        print("ooi_status_monitor: --new-api-key needs a name, e.g. --new-api-key ops", file=sys.stderr)
        return 2
    key = new_api_key()
    print(f"API key {name!r} for {scope} (shown once, keep it secret): {key}")
    print(f"settings line: API_KEYS = {{{name!r}: {api_key_entry(key, scope)!r}}}")
    return 0


def main(
    argv: list[str] | None = None,
    before_check: BeforeCheck | None = None,
    early_stop: EarlyStop | None = None,
) -> int:
    """The command; ``before_check`` runs before each check round (the demo's live data).

    A stop signal that arrives before the daemon's loop starts is remembered (``early_stop``,
    installed by the entry point before the imports; here otherwise) and stops the daemon as it
    starts, exit status 0. The other actions get the default handlers back once parsed.
    """
    early = early_stop or EarlyStop().install()
    try:
        args = parse_args(argv)
    except SystemExit:
        early.restore()
        raise
    if not _runs_the_daemon(args):
        early.restore()
        return _run_action(args, before_check)
    return _start_daemon(before_check, early)


def _runs_the_daemon(args: argparse.Namespace) -> bool:
    return not (args.new_api_key or args.expected or args.once or args.notify_preview or args.build_coverage)


def _start_daemon(before_check: BeforeCheck | None, early: EarlyStop) -> int:
    try:
        settings = settings_or_exit("ooi_status_monitor")
        configure_logging(settings)
        migrate_if_configured(settings)
        log.info(
            "monitor database %s, metadata %s (%s)",
            mask_url(settings.MONITOR_URL), mask_url(settings.METADATA_URL), settings.STREAM_SOURCE,
        )  # fmt: skip
        daemon = Daemon(settings, before_check=before_check)
    except BaseException:
        early.restore(again=False)  # the failure is the outcome, whatever was asked meanwhile
        raise
    daemon.install_signals()
    if early.signum is not None:
        daemon.request_stop(early.signum)
    return daemon.run()


def _run_action(args: argparse.Namespace, before_check: BeforeCheck | None) -> int:
    if args.new_api_key is not None:
        return print_new_key(args.new_api_key, args.scope)
    settings = settings_or_exit("ooi_status_monitor")
    configure_logging(settings)
    migrate_if_configured(settings)
    if args.expected:
        return load_expected(settings, args.expected)
    if args.notify_preview:
        return notify_preview(settings)
    if args.build_coverage:
        return build_coverage(settings)
    log.info(
        "monitor database %s, metadata %s (%s)",
        mask_url(settings.MONITOR_URL), mask_url(settings.METADATA_URL), settings.STREAM_SOURCE,
    )  # fmt: skip
    return run_once(settings, before_check=before_check)


if __name__ == "__main__":
    sys.exit(main())
