"""The pure silence rules: which stream a silence covers, when it is in force, which one wins."""

from datetime import UTC, datetime, timedelta

import pytest

from ooi_status.silences import (
    SilenceRule,
    by_prefix,
    candidates,
    covers,
    heads,
    in_force,
    silence_for,
    state,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ADCP = "CE01ISSM-MFD35-04-ADCPTM000"


def rule(refdes, method=None, stream=None, starts=-HOUR, ends=HOUR, ident=1, reason="cruise"):
    return SilenceRule(ident, refdes, method, stream, NOW + starts, NOW + ends, reason)


@pytest.mark.parametrize(
    ("prefix", "refdes", "expected"),
    [
        ("CE01ISSM", ADCP, True),
        ("CE01ISSM-MFD35", ADCP, True),
        (ADCP, ADCP, True),
        ("CE01ISSM-MFD35-04", ADCP, True),
        ("CE01ISS", ADCP, False),  # a prefix of the site's name, not the site
        ("CE01ISSM-MFD3", ADCP, False),
        ("CE01ISSM-MFD35-04-ADCPTM0001", ADCP, False),
        ("CE02SHBP", ADCP, False),
    ],
)
def test_a_prefix_covers_whole_dash_separated_parts(prefix, refdes, expected):
    assert covers(rule(prefix), refdes, "streamed", "adcp_velocity") is expected


def test_method_and_stream_narrow_a_silence_and_none_means_any():
    assert covers(rule("CE01ISSM", method="streamed"), ADCP, "streamed", "a")
    assert not covers(rule("CE01ISSM", method="streamed"), ADCP, "telemetered", "a")
    assert covers(rule("CE01ISSM", stream="a"), ADCP, "telemetered", "a")
    assert not covers(rule("CE01ISSM", stream="a"), ADCP, "telemetered", "b")
    assert covers(rule("CE01ISSM", "streamed", "a"), ADCP, "streamed", "a")


@pytest.mark.parametrize(
    ("starts", "ends", "expected", "named"),
    [
        (timedelta(0), HOUR, True, "active"),  # starts_at is included
        (-HOUR, timedelta(0), False, "ended"),  # ends_at is not
        (HOUR, 2 * HOUR, False, "upcoming"),
        (-2 * HOUR, -HOUR, False, "ended"),
    ],
)
def test_in_force_from_start_included_to_end_excluded(starts, ends, expected, named):
    assert in_force(rule("CE01ISSM", starts=starts, ends=ends), NOW) is expected
    assert state(rule("CE01ISSM", starts=starts, ends=ends), NOW) == named


def test_of_overlapping_silences_the_one_ending_last_wins():
    rules = [
        rule("CE01ISSM", ends=HOUR, ident=1),
        rule("CE01ISSM-MFD35", ends=3 * HOUR, ident=2),
        rule(ADCP, ends=2 * HOUR, ident=3),
        rule("CE01ISSM", starts=HOUR, ends=9 * HOUR, ident=4),  # not yet in force
        rule("CE01ISSM", method="telemetered", ends=9 * HOUR, ident=5),  # another method
    ]
    assert silence_for(rules, ADCP, "streamed", "adcp_velocity", NOW).id == 2
    assert silence_for(rules, "CE01ISSM-SBD17-01-CTDBPC000", "streamed", "x", NOW).id == 1
    assert silence_for(rules, "CE02SHBP-LJ01D-06-CTDBPN106", "streamed", "x", NOW) is None
    assert silence_for([], ADCP, "streamed", "x", NOW) is None


def test_equal_ends_prefer_the_older_silence():
    rules = [rule("CE01ISSM", ident=7), rule("CE01ISSM-MFD35", ident=3)]
    assert silence_for(rules, ADCP, "streamed", "x", NOW).id == 3


def test_candidates_by_prefix_are_exactly_the_rules_whose_prefix_covers_the_instrument():
    rules = [
        rule("CE01ISSM", ident=1),
        rule("CE01ISSM-MFD35", ident=2),
        rule(ADCP, ident=3),
        rule("CE01ISS", ident=4),
        rule("CE01ISSM-MFD3", ident=5),
        rule("CE02SHBP", ident=6),
    ]
    assert heads(ADCP) == ["CE01ISSM", "CE01ISSM-MFD35", "CE01ISSM-MFD35-04", ADCP]
    found = candidates(by_prefix(rules), ADCP)
    assert (
        sorted(r.id for r in found) == sorted(r.id for r in rules if covers(r, ADCP, "m", "s")) == [1, 2, 3]
    )
