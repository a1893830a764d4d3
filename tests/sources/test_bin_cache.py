"""Bins kept for repeated availability requests: reused only while valid, bounded in rows."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest

from ooi_status.sources.base import BinRow, StreamKey, StreamRow
from ooi_status.sources.bin_cache import BinCache

REFDES = "CE04OSBP-LJ01C-06-CTDBPO108"


class FakeSource:
    """A StreamSource over fixed bins that records every bins() call."""

    def __init__(self, bins: dict[StreamKey, list[BinRow]]) -> None:
        self.data = bins
        self.calls: list[tuple[list[StreamKey], float, float]] = []

    def bins(
        self, refdes: str, keys: Collection[StreamKey], start_ntp: float, stop_ntp: float
    ) -> dict[StreamKey, Sequence[BinRow]]:
        self.calls.append((list(keys), start_ntp, stop_ntp))
        return {
            key: [b for b in self.data[key] if b.last > start_ntp and b.first < stop_ntp]
            for key in keys
            if any(b.last > start_ntp and b.first < stop_ntp for b in self.data.get(key, []))
        }


def stream(name: str, count: int = 30, first: float = 0.0, last: float = 300.0) -> StreamRow:
    return StreamRow("CE04OSBP", "LJ01C", "06-CTDBPO108", "streamed", name, count, first, last)


def rows(n: int) -> list[BinRow]:
    return [BinRow(k * 100, 10, k * 100.0, k * 100.0 + 99) for k in range(n)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source() -> FakeSource:
    return FakeSource({("streamed", "a"): rows(3), ("streamed", "b"): rows(2)})


def test_a_second_request_for_the_same_streams_reads_nothing(source, clock):
    cache = BinCache(1000, 60, clock)
    first = cache.bins(source, REFDES, [stream("a"), stream("b", 20, 0, 200)], 0, 400)
    second = cache.bins(source, REFDES, [stream("a"), stream("b", 20, 0, 200)], 0, 400)
    assert first == second == {("streamed", "a"): rows(3), ("streamed", "b"): rows(2)}
    assert len(source.calls) == 1


def test_a_changed_stream_row_is_read_again_alone(source, clock):
    cache = BinCache(1000, 60, clock)
    cache.bins(source, REFDES, [stream("a"), stream("b", 20, 0, 200)], 0, 400)
    source.data[("streamed", "a")] = rows(4)
    got = cache.bins(source, REFDES, [stream("a", 40, 0, 400), stream("b", 20, 0, 200)], 0, 500)
    assert got[("streamed", "a")] == rows(4)
    assert source.calls[-1][0] == [("streamed", "a")]


def test_entries_older_than_max_age_are_read_again(source, clock):
    cache = BinCache(1000, 60, clock)
    cache.bins(source, REFDES, [stream("a")], 0, 400)
    clock.now += 59.9
    cache.bins(source, REFDES, [stream("a")], 0, 400)
    assert len(source.calls) == 1
    clock.now += 0.2
    cache.bins(source, REFDES, [stream("a")], 0, 400)
    assert len(source.calls) == 2


def test_a_window_moving_with_now_is_covered_while_no_new_point_came(source, clock):
    cache = BinCache(1000, 60, clock)
    cache.bins(source, REFDES, [stream("a")], 50, 400)  # reached past the last point (300)
    cache.bins(source, REFDES, [stream("a")], 50, 10_000)
    cache.bins(source, REFDES, [stream("a")], 120, 250)  # inside
    assert len(source.calls) == 1
    cache.bins(source, REFDES, [stream("a")], 20, 400)  # starts before what was read (50 > first 0)
    assert len(source.calls) == 2


def test_a_window_not_covered_is_read(source, clock):
    cache = BinCache(1000, 60, clock)
    cache.bins(source, REFDES, [stream("a")], 100, 200)
    got = cache.bins(source, REFDES, [stream("a")], 100, 250)
    assert len(source.calls) == 2
    assert got[("streamed", "a")] == rows(3)[1:]


def test_streams_without_bins_are_kept_too(source, clock):
    cache = BinCache(1000, 60, clock)
    assert cache.bins(source, REFDES, [stream("none")], 0, 400) == {("streamed", "none"): []}
    cache.bins(source, REFDES, [stream("none")], 0, 400)
    assert len(source.calls) == 1


def test_least_recently_used_entries_go_first_and_oversized_ones_are_not_kept(clock):
    source = FakeSource(
        {("streamed", name): rows(n) for name, n in (("a", 3), ("b", 3), ("c", 3), ("big", 8))}
    )
    cache = BinCache(7, 60, clock)
    cache.bins(source, REFDES, [stream("a")], 0, 1000)
    cache.bins(source, REFDES, [stream("b")], 0, 1000)
    cache.bins(source, REFDES, [stream("a")], 0, 1000)  # a is now the most recent
    cache.bins(source, REFDES, [stream("c")], 0, 1000)  # 9 rows > 7: b goes
    assert len(cache) == 2
    calls = len(source.calls)
    cache.bins(source, REFDES, [stream("a")], 0, 1000)
    assert len(source.calls) == calls
    cache.bins(source, REFDES, [stream("big")], 0, 1000)
    assert len(cache) == 2


@pytest.mark.parametrize(("max_rows", "max_age"), [(0, 60), (1000, 0)])
def test_turned_off_every_request_reads(source, clock, max_rows, max_age):
    cache = BinCache(max_rows, max_age, clock)
    for _ in range(2):
        assert cache.bins(source, REFDES, [stream("a")], 0, 150) == {("streamed", "a"): rows(2)}
    assert source.calls == [([("streamed", "a")], 0, 150)] * 2
