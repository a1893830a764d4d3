"""Unit conversions: NTP seconds and Unix milliseconds to UTC, and the API's text formats."""

import os
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status import times


@pytest.mark.parametrize(
    ("ntp", "expected"),
    [
        (0.0, datetime(1900, 1, 1, tzinfo=UTC)),
        (2208988800.0, datetime(1970, 1, 1, tzinfo=UTC)),
        (2208988799.5, datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)),  # before 1970
        (3665692800.0, datetime(2016, 2, 29, tzinfo=UTC)),  # leap day
        (3665779199.0, datetime(2016, 2, 29, 23, 59, 59, tzinfo=UTC)),
        (3694291200.0, datetime(2017, 1, 25, tzinfo=UTC)),
    ],
)
def test_ntp_seconds_to_utc(ntp, expected):
    assert times.ntp_to_datetime(ntp) == expected
    assert times.datetime_to_ntp(expected) == ntp


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (-1000, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (1485994860000, datetime(2017, 2, 2, 0, 21, tzinfo=UTC)),
        (1456704000000, datetime(2016, 2, 29, tzinfo=UTC)),
    ],
)
def test_unix_milliseconds_to_utc(ms, expected):
    assert times.unix_ms_to_datetime(ms) == expected
    assert times.datetime_to_unix_ms(expected) == ms


def test_unix_ms_floors_sub_millisecond_fractions():
    moment = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert times.datetime_to_unix_ms(moment) == -1


@given(st.integers(min_value=-(2**40), max_value=2**42))
def test_unix_ms_round_trip_is_exact(ms):
    assert times.datetime_to_unix_ms(times.unix_ms_to_datetime(ms)) == ms


@given(st.integers(min_value=0, max_value=5 * 10**9))
def test_whole_ntp_seconds_round_trip_exactly(seconds):
    moment = times.ntp_to_datetime(float(seconds))
    assert moment.microsecond == 0
    assert times.datetime_to_ntp(moment) == seconds


def test_ntp_and_unix_ms_agree():
    assert times.ntp_to_unix_ms(3694291200.25) == 1485302400250
    assert times.unix_ms_to_ntp(1485302400250) == 3694291200.25


def test_format_truncates_fraction_and_converts_zone():
    eastern = timezone(timedelta(hours=-5))
    assert (
        times.format_timestamp(datetime(2016, 1, 1, 7, 0, 0, 999999, tzinfo=eastern)) == "2016-01-01 12:00:00"
    )
    assert times.format_ntp(3694291200.9) == "2017-01-25 00:00:00"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        times.datetime_to_ntp(datetime(2016, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        times.format_timestamp(datetime(2016, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a bare date: midnight UTC
        ("2016-01-01", datetime(2016, 1, 1, tzinfo=UTC)),
        ("2016-02-29", datetime(2016, 2, 29, tzinfo=UTC)),
        (" 2016-01-01 ", datetime(2016, 1, 1, tzinfo=UTC)),
        # a date-time without a zone: UTC
        ("2016-01-01T12:00:00", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2016-01-01T12:00", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2016-01-01 12:00:00", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2016-01-01T12:00:00.5", datetime(2016, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2016-01-01T12:00:00.123456", datetime(2016, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        # Z
        ("2016-01-01T12:00:00Z", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2016-01-01T12:00Z", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2016-01-01T12:00:00.5Z", datetime(2016, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-01T00:00:00.5Z", datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        # offsets, converted to UTC (across a day and a year boundary)
        ("2016-01-01T07:00:00-05:00", datetime(2016, 1, 1, 12, tzinfo=UTC)),
        ("2025-01-01T00:00:00+05:00", datetime(2024, 12, 31, 19, tzinfo=UTC)),
        ("2025-01-01T00:00:00-00:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2016-01-01T12:00:00+05:30", datetime(2016, 1, 1, 6, 30, tzinfo=UTC)),
        ("2016-01-01T12:00:00.25+23:59", datetime(2015, 12, 31, 12, 1, 0, 250000, tzinfo=UTC)),
    ],
)
def test_parse_iso_timestamps(text, expected):
    parsed = times.parse_iso_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2016-13-01",
        "2016-02-30",
        "2015-02-29",
        "0000-01-01",
        "1451606400",
        "2016/01/01",
        "20160101",
        "2016-1-1",
        "2016-01-01T25:00:00",
        "2016-01-01T24:00:00",
        "2016-01-01T12:60:00",
        "2016-01-01T12:00:60",
        "2016-01-01T12",
        "2016-01-01T",
        "2016-01-01T12:00:00.",
        "2016-01-01T12:00:00.1234567",
        "2016-01-01T12:00.5",
        # a zone needs a time part
        "2025-01-01+05:00",
        "2025-01-01-05:00",
        "2025-01-01Z",
        "2025-01-01 +05:00",
        # offsets are ±HH:MM, less than a day
        "2016-01-01T12:00:00+99:00",
        "2016-01-01T12:00:00+24:00",
        "2016-01-01T12:00:00+05:60",
        "2016-01-01T12:00:00+0500",
        "2016-01-01T12:00:00+05",
        "2016-01-01T12:00:00 +05:00",
        "2016-01-01T12:00:00z",
        "2016-01-01T12:00:00ZZ",
        "2016-01-01T12:00:00Z+01:00",
        # outside years 1..9999 once in UTC
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        # only ASCII digits, nothing after the value
        "\u0662\u0660\u0661\u0666-01-01",
        "2016-01-01\x00",
        "2016-01-01T12:00:00Z trailing",
    ],
)
def test_parse_rejects_everything_else(text):
    with pytest.raises(ValueError):
        times.parse_iso_timestamp(text)


def test_format_duration_like_event_notes():
    assert times.format_duration(3731) == "1:02:11"
    assert times.format_duration(1800) == "0:30:00"
    assert times.format_duration(0) == "0:00:00"


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Pacific/Chatham"])
def test_local_time_zone_changes_nothing(monkeypatch, zone):
    reference = (
        times.format_ntp(3665347200.0),
        times.parse_iso_timestamp("2016-03-13T02:30:00"),
        times.unix_ms_to_datetime(1457836200000),
    )
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert (
            times.format_ntp(3665347200.0),
            times.parse_iso_timestamp("2016-03-13T02:30:00"),
            times.unix_ms_to_datetime(1457836200000),
        ) == reference
    finally:
        monkeypatch.undo()
        time.tzset()
    assert os.environ.get("TZ") != zone
