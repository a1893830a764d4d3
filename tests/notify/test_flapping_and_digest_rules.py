"""Pure rules: when a stream is flapping, and when a daily digest is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ooi_status.notify.digest import digest_due, digest_moment
from ooi_status.notify.flapping import is_flapping

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("was", "changes", "last_change", "expected"),
    [
        (False, 3, NOW, False),  # below FLAP_CHANGES
        (False, 4, NOW, True),  # reaches it
        (True, 0, NOW - HOUR, False),  # stable for exactly FLAP_WINDOW: settled
        (True, 1, NOW - timedelta(minutes=50), True),  # changed again: not stable yet
        (True, 2, NOW - timedelta(minutes=59), True),
        (False, 2, NOW - timedelta(minutes=5), False),  # never flapping: a few changes are news
        (True, 0, None, False),
    ],
)
def test_flapping_until_stable_for_the_window(was, changes, last_change, expected):
    assert is_flapping(was, changes, last_change, NOW, 4, HOUR) is expected


@pytest.mark.parametrize(
    ("now", "moment"),
    [
        (datetime(2026, 12, 1, 7, 0, tzinfo=UTC), datetime(2026, 12, 1, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 6, 59, tzinfo=UTC), datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 23, 0, tzinfo=UTC), datetime(2026, 12, 1, 7, 0, tzinfo=UTC)),
    ],
)
def test_digest_moment_is_the_latest_hour_at_or_before_now(now, moment):
    assert digest_moment(now, 7) == moment


def test_a_digest_is_due_once_per_day_and_first_the_day_after_the_subscription():
    created = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert not digest_due(None, created, datetime(2026, 12, 2, 6, 59, tzinfo=UTC), 7)
    assert digest_due(None, created, datetime(2026, 12, 2, 7, 0, tzinfo=UTC), 7)
    sent = datetime(2026, 12, 2, 7, 0, 30, tzinfo=UTC)
    assert not digest_due(sent, created, datetime(2026, 12, 2, 23, 0, tzinfo=UTC), 7)
    assert digest_due(sent, created, datetime(2026, 12, 3, 7, 0, tzinfo=UTC), 7)
    # A monitor that was down at 07:00 sends the day's digest when it comes back.
    assert digest_due(sent, created, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), 7)
