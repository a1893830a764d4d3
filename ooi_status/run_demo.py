"""``ooi_status_demo``: the whole service on the embedded default, from a fresh clone.

Creates the SQLite databases in DATA_DIR, builds the synthetic observatory (once),
migrates the monitor schema, loads the expected-intervals tables, then runs the
monitor (live demo mode) and the API on :9000 until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime

from sqlalchemy import inspect

from ooi_status import demo, migrate
from ooi_status.config import Settings, SettingsError, load_settings, mask_url
from ooi_status.db import Databases
from ooi_status.monitor.expected import read_expected_csv, upsert_expected
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.demo")


def prepare(settings: Settings, now: datetime, instruments: int = 40, seed: int = 7) -> dict[str, int]:
    """Migrate, build the observatory if the metadata database is empty, load expected intervals."""
    migrate.upgrade(settings.MONITOR_URL)
    databases = Databases(settings)
    built = 0
    try:
        if "stream_metadata" not in inspect(databases.metadata).get_table_names():
            observatory = demo.demo_observatory(now, instruments=instruments, seed=seed)
            demo.write_observatory(databases.metadata, observatory)
            built = len(observatory.streams)
        rows = read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        with databases.monitor_session() as session, session.begin():
            created, updated = upsert_expected(session, rows)
    finally:
        databases.dispose()
    return {"streams_built": built, "expected_created": created, "expected_updated": updated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ooi_status_demo", description=__doc__)
    parser.add_argument("--instruments", type=int, default=40, help="instruments in a new demo observatory")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo observatory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"ooi_status_demo: settings error: {exc}", file=sys.stderr)
        return 2
    summary = prepare(settings, utcnow(), args.instruments, args.seed)
    print(f"monitor schema migrated: {mask_url(settings.MONITOR_URL)}")
    print(
        f"metadata database: {mask_url(settings.METADATA_URL)} "
        f"({summary['streams_built']} streams built now; 0 = already there)"
    )
    print(f"expected streams: {summary['expected_created']} created, {summary['expected_updated']} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
