"""``ooi_status_monitor``: the monitor daemon's command line."""

from __future__ import annotations

import argparse
import sys

from ooi_status.config import Settings, SettingsError, load_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ooi_status_monitor", description=__doc__)
    parser.add_argument("--expected", metavar="FILE.csv", help="load expected-stream intervals and exit")
    parser.add_argument("--once", action="store_true", help="run one check and one delivery round and exit")
    return parser.parse_args(argv)


def settings_or_exit() -> Settings:
    """Load settings; on any problem print one line and exit with status 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"ooi_status_monitor: settings error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    parse_args(argv)
    settings_or_exit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
