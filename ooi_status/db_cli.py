"""The ``ooi_status_db`` command: Alembic's command line bound to the packaged migrations.

Every Alembic command works (``upgrade head``, ``downgrade -1``, ``current``, ``history``,
``upgrade head --sql`` for the DDL a DBA reviews), from any directory, on the monitor
database of the settings (MONITOR_URL; ``-x url=...`` for another). Bad settings: one line
and exit status 2, as for the other commands.
"""

from __future__ import annotations

import sys

from alembic import __version__ as alembic_version
from alembic.config import CommandLine

from ooi_status import commands, migrate
from ooi_status.config import mask_url, settings_or_exit
from ooi_status.logs import setup_logging

PROG = "ooi_status_db"
DESCRIPTION = """\
Alembic's command line for the ooi_status monitor schema, with the migrations shipped in the
package and the database of the ooi_status settings (MONITOR_URL, or -x url=URL).

  ooi_status_db upgrade head           create or bring the schema up to date
  ooi_status_db upgrade head --sql     print the DDL instead of running it
  ooi_status_db current                the revision the database is at
  ooi_status_db history                every revision
  ooi_status_db downgrade -1           undo the last revision
"""


def command_line() -> CommandLine:
    cli = CommandLine(prog=PROG)
    cli.parser.description = DESCRIPTION
    cli.parser.formatter_class = commands.HelpFormatter
    for action in cli.parser._actions:  # the one place argparse keeps them
        if "--version" in action.option_strings:
            action.version = f"{commands.version_line(PROG)} (alembic {alembic_version})"  # type: ignore[attr-defined]
    return cli


def main(argv: list[str] | None = None) -> int:
    cli = command_line()
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("a command is needed, e.g. upgrade head (see --help)")
    if options.config:
        cli.parser.error("-c/--config: ooi_status_db uses the packaged alembic.ini; run alembic for another")
    settings = settings_or_exit(PROG)
    setup_logging(
        settings.LOG_FORMAT, settings.LOG_LEVEL, "db", loggers=() if options.quiet else ("alembic",)
    )
    config = migrate.alembic_config(None, ini_section=options.name, cmd_opts=options)
    config.attributes["program"] = PROG
    if not getattr(options, "sql", False):
        url = dict(item.split("=", 1) for item in options.x or () if "=" in item).get("url")
        print(f"{PROG}: monitor database {mask_url(url or settings.MONITOR_URL)}", file=sys.stderr)
    cli.run_cmd(config, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
