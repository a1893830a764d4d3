"""The hold-down of immediate messages (NOTIFY_HOLD): a status is news once it has held.

With a hold of H seconds, what people are told follows the *held* status of a stream: the
status set by its latest change that then lasted at least H (up to the moment asked about).
A change is therefore told at the first notification step at least H after it, and a change
undone within H is never told: a stream that fails and recovers inside the hold, or that
flips faster than the hold until it is flapping, sends nothing. With H = 0 (the default)
the held status is simply the status, and every step tells each stream's net change since
the previous step, as soon as it is seen.

The held status is a function of the status history alone, so nothing per stream is stored:
a step at ``now`` after a step at ``start`` tells ``held(start) -> held(now)`` for every
stream with a change in ``(start - H, now]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any


def held_status(changes: Sequence[Any], at: datetime, hold: timedelta) -> tuple[str, Any | None]:
    """The held status at ``at`` and the change that set it (None: before every change given).

    ``changes``: one stream's status changes in order of time (rows with ``old_status``,
    ``new_status`` and ``changed_at``), reaching
    far enough back that one of them at or before ``at - hold`` lasted ``hold``; otherwise
    the status before the first change given is answered.
    """
    latest = at - hold
    for i in range(len(changes) - 1, -1, -1):
        change = changes[i]
        if change.changed_at > latest:
            continue
        following = changes[i + 1].changed_at if i + 1 < len(changes) else None
        if following is None or following > at or following - change.changed_at >= hold:
            return change.new_status, change
    return changes[0].old_status, None
