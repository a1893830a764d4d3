"""What every ooi_status command line shares: the help layout and --version."""

from __future__ import annotations

import argparse

from ooi_status import __version__


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written (plain text), and each option's default where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the shared help layout and ``--version``."""
    made = argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)
    made.add_argument("--version", action="version", version=version_line(prog))
    return made


def version_line(prog: str) -> str:
    return f"{prog} (ooi_status) {__version__}"
