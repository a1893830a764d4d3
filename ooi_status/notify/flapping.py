"""Flapping: a stream whose status keeps changing is held out of immediate messages.

A stream is *flapping* from the moment FLAP_CHANGES or more of its status changes fall
within the last FLAP_WINDOW, until it has been stable (no change at all) for FLAP_WINDOW.
The second condition is stricter than the first one's reverse on purpose: a stream that
changed four times and then twice more every 50 minutes is still not settled. When it
settles, one message says where it settled.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def is_flapping(
    was_flapping: bool,
    changes_in_window: int,
    last_change: datetime | None,
    now: datetime,
    flap_changes: int,
    window: timedelta,
) -> bool:
    """Flapping at ``now``; ``changes_in_window``: changes in (now - window, now]."""
    if changes_in_window >= flap_changes:
        return True
    return was_flapping and last_change is not None and now - last_change < window
