"""The hold-down rule of immediate messages (ooi_status.notify.hold), against its definition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status.notify.hold import held_status

T0 = datetime(2026, 12, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Change(NamedTuple):
    old_status: str
    new_status: str
    changed_at: datetime


def history(start: str, *steps: tuple[int, str]) -> list[Change]:
    """Changes at the given minutes after T0, each from the status before it."""
    changes, status = [], start
    for minute, new in steps:
        changes.append(Change(status, new, T0 + minute * MINUTE))
        status = new
    return changes


def at(minute: int) -> datetime:
    return T0 + minute * MINUTE


def test_without_hold_the_held_status_is_the_status():
    changes = history("operational", (10, "failed"), (11, "operational"), (20, "degraded"))
    hold = timedelta(0)
    assert held_status(changes, at(5), hold) == ("operational", None)
    assert held_status(changes, at(10), hold) == ("failed", changes[0])
    assert held_status(changes, at(11), hold) == ("operational", changes[1])
    assert held_status(changes, at(30), hold) == ("degraded", changes[2])


def test_a_status_is_held_once_it_has_lasted_the_hold():
    changes = history("operational", (10, "failed"))
    hold = 5 * MINUTE
    assert held_status(changes, at(14), hold)[0] == "operational"
    assert held_status(changes, at(15), hold) == ("failed", changes[0])  # exactly the hold


def test_a_change_undone_within_the_hold_is_never_held():
    changes = history("operational", (10, "failed"), (14, "operational"), (40, "failed"), (44, "operational"))
    hold = 5 * MINUTE
    for minute in range(0, 60):
        assert held_status(changes, at(minute), hold)[0] == "operational", minute


def test_a_short_status_between_two_long_ones_is_skipped():
    changes = history("operational", (10, "failed"), (30, "degraded"), (32, "failed"))
    hold = 5 * MINUTE
    assert held_status(changes, at(33), hold) == ("failed", changes[0])  # degraded lasted 2 min
    assert held_status(changes, at(37), hold) == ("failed", changes[2])


def test_flips_faster_than_the_hold_keep_the_status_before_them():
    changes = history("operational", *[(10 * k, "failed" if k % 2 else "operational") for k in range(1, 6)])
    hold = 15 * MINUTE
    assert [held_status(changes, at(m), hold)[0] for m in (10, 30, 50, 64)] == ["operational"] * 4
    assert held_status(changes, at(65), hold) == ("failed", changes[-1])  # the last flip held


STATUSES = ("operational", "degraded", "failed", "notTracked")


@st.composite
def histories(draw):
    start = draw(st.sampled_from(STATUSES))
    minutes = sorted(draw(st.sets(st.integers(0, 120), max_size=12)))
    steps, status = [], start
    for minute in minutes:
        new = draw(st.sampled_from([s for s in STATUSES if s != status]))
        steps.append((minute, new))
        status = new
    return history(start, *steps)


def status_at(changes: list[Change], minute: int) -> str:
    found = [c for c in changes if c.changed_at <= at(minute)]
    return found[-1].new_status if found else (changes[0].old_status if changes else "")


def reference(changes: list[Change], minute: int, hold: int) -> str:
    """The definition, minute by minute: the status of the latest moment u <= minute - hold
    from which the status stayed the same for ``hold`` minutes ([u, u + hold))."""
    for u in range(minute - hold, -hold - 2, -1):
        if len({status_at(changes, v) for v in range(u, u + max(hold, 1))}) == 1:
            return status_at(changes, u)
    return changes[0].old_status


@given(histories(), st.integers(0, 30), st.integers(0, 160))
def test_the_held_status_follows_its_definition(changes, hold, minute):
    if not changes:
        return
    status, change = held_status(changes, at(minute), hold * MINUTE)
    assert status == reference(changes, minute, hold)
    if change is not None:
        assert change.new_status == status and change.changed_at <= at(minute) - hold * MINUTE


@given(histories(), st.integers(1, 30), st.lists(st.integers(0, 160), min_size=1, max_size=20))
def test_steps_tell_only_statuses_that_lasted_the_hold(changes, hold, steps):
    """Whatever the steps' moments, each status told was set by a change that lasted the hold."""
    if not changes:
        return
    moments = sorted(set(steps))
    told = [held_status(changes, at(m), hold * MINUTE) for m in moments]
    lasted = {c.changed_at: c for c in changes}
    for status, change in told:
        if change is None:
            continue
        following = [c.changed_at for c in changes if c.changed_at > change.changed_at]
        assert not following or following[0] - change.changed_at >= hold * MINUTE
        assert lasted[change.changed_at].new_status == status


@pytest.mark.parametrize("hold", [0, 300])
def test_one_change_gives_its_old_status_before_it_and_its_new_one_after(hold):
    changes = history("failed", (0, "operational"))
    assert held_status(changes, at(-1), timedelta(seconds=hold))[0] == "failed"
    assert held_status(changes, at(10), timedelta(seconds=hold))[0] == "operational"


def test_a_status_that_lasted_exactly_the_hold_was_held():
    changes = history("operational", (40, "failed"), (45, "operational"), (47, "failed"))
    hold = 5 * MINUTE
    assert held_status(changes, at(50), hold) == ("failed", changes[0])
    assert held_status(changes, at(52), hold) == ("failed", changes[2])
