"""The ``ooi_status_monitor`` command's entry point: stop signals count from the first instant.

The daemon installs its signal handlers once its settings, migrations and databases are set up;
before that (the imports alone take most of a second) a SIGTERM would kill the process with
status 143 instead of the 0 of a stop a moment later. So the entry point first installs a
handler that only remembers a stop signal, then imports the rest; the daemon honours a
remembered signal as soon as it starts: nothing is checked, the lock is not taken, exit 0.
This module imports nothing of the package at load time, to keep that first window short.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class EarlyStop:
    """Remembers the first stop signal until the daemon takes the signals over."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def install(self) -> EarlyStop:
        """Catch the stop signals (only possible in the main thread; elsewhere a no-op)."""
        if threading.current_thread() is threading.main_thread() and not self._previous:
            self._previous = {signum: signal.signal(signum, self) for signum in STOP_SIGNALS}
        return self

    def restore(self, *, again: bool = True) -> None:
        """Back to the handlers from before; a signal remembered meanwhile is raised ``again``,
        so that a command other than the daemon stops as it always did."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        if again and self.signum is not None:
            signum, self.signum = self.signum, None
            signal.raise_signal(signum)


def main(argv: list[str] | None = None) -> int:
    early = EarlyStop().install()
    from ooi_status.monitor import cli

    return cli.main(argv, early_stop=early)


if __name__ == "__main__":
    sys.exit(main())
