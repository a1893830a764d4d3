"""Bins of recently read streams, kept in each process for repeated availability requests.

Reading ten years of daily bins costs more than the rest of an /available request together,
and the page for people asks for the same instrument again and again (zooming moves the
window, not the bins). An entry is reused only while all of these hold:

- the stream's stream_metadata row (count, first, last) is the same as when the bins were
  read — ingest changes it with every new point, so live streams are read again;
- it is younger than ``max_age`` seconds (AVAILABILITY_CACHE_SECONDS: an answer may be that
  old anyway, as Cache-Control tells every client);
- the read covered the requested window. A read of ``last > lo AND first < hi`` holds every
  bin of the stream when ``lo`` is before the stream's first point and ``hi`` after its last
  one, so a window that moves with "now" is still covered while no new point has come.

Entries hold at most ``max_rows`` bins in all, least recently used dropped first; 0 turns
the cache off. The rows returned may reach beyond the window: the span engine keeps the
bins overlapping it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ooi_status.sources.base import BinRow, StreamKey, StreamRow, StreamSource


@dataclass(frozen=True, slots=True)
class _Entry:
    version: tuple[int | None, float | None, float | None]  # stream_metadata count, first, last
    read_at: float
    low: float  # the read covered bins overlapping (low, high)
    high: float
    rows: Sequence[BinRow]

    def covers(self, start: float, stop: float) -> bool:
        return self.low <= start and stop <= self.high


def _version(row: StreamRow) -> tuple[int | None, float | None, float | None]:
    return (row.points, row.first, row.last)


class BinCache:
    def __init__(self, max_rows: int, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_rows = max(0, int(max_rows))
        self.max_age = float(max_age)
        self._clock = clock
        self._entries: OrderedDict[tuple[str, StreamKey], _Entry] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_rows > 0 and self.max_age > 0

    def bins(
        self, source: StreamSource, refdes: str, streams: Sequence[StreamRow], start: float, stop: float
    ) -> dict[StreamKey, Sequence[BinRow]]:
        """Bins of these streams of one instrument overlapping (start, stop): kept ones where
        still valid, the others read from ``source`` in one call."""
        keys = [(row.method, row.stream) for row in streams]
        if not self.enabled:
            return source.bins(refdes, keys, start, stop)
        now = self._clock()
        found: dict[StreamKey, Sequence[BinRow]] = {}
        missing = []
        for key, row in zip(keys, streams, strict=True):
            entry = self._get((refdes, key))
            valid = entry and entry.version == _version(row) and now - entry.read_at < self.max_age
            if entry and valid and entry.covers(start, stop):
                found[key] = entry.rows
            else:
                missing.append((key, row))
        if missing:
            read = source.bins(refdes, [key for key, _ in missing], start, stop)
            for key, row in missing:
                found[key] = read.get(key, [])
                self._put((refdes, key), _entry(row, now, start, stop, found[key]))
        return found

    def _get(self, key: tuple[str, StreamKey]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: tuple[str, StreamKey], entry: _Entry) -> None:
        if len(entry.rows) > self.max_rows:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._rows -= len(old.rows) if old else 0
            self._entries[key] = entry
            self._rows += len(entry.rows)
            while self._rows > self.max_rows:
                _, dropped = self._entries.popitem(last=False)
                self._rows -= len(dropped.rows)

    def __len__(self) -> int:
        return len(self._entries)


def _entry(row: StreamRow, now: float, start: float, stop: float, rows: Sequence[BinRow]) -> _Entry:
    """What a read of (start, stop) covers: everything on a side where it reached past the
    stream's first or last point (stream_metadata), so later windows on that side still hit."""
    low = -math.inf if row.first is not None and start < row.first else start
    high = math.inf if row.last is not None and stop > row.last else stop
    return _Entry(_version(row), now, low, high, rows)
