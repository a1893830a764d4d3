"""Identical list reads that arrive together share one database read and one JSON encoding.

A status list of 12,000 streams costs a worker ~100 ms of CPU; when 30 clients ask for the
same list at once, computing it 30 times only makes all of them wait longer. Here the first
request for a key (the leader) computes the response body; requests for the same key arriving
while it works wait for it and answer the same bytes. Nothing is kept here afterwards
(ooi_status.api.answers keeps bodies, by data revision, which is part of the key).

A write accepted by this process starts a new generation: reads arriving after it never join
a computation that began before it. (A write through another worker is seen by the next
computation, like any write that commits while a read is under way.)
If the leader fails, each follower computes on its own, so an error is never shared.

Fresh reads (``FreshReads``) are shared differently: a request that needs the current value of
something (the data revision, the inputs of a timeline) may only use a read that *started after
it arrived*, so that every write committed before it arrived is seen. Requests arriving while
such a read is under way wait for the next one, which starts as soon as the current one ends
and serves all of them: under load a worker has at most one read of each key in flight, and a
request waits at most for the end of the current read plus its own.
Locks are threading locks: cooperative under gevent's monkey-patching, real ones otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

#: Longest a follower waits for the leader before computing on its own (seconds).
FOLLOWER_WAIT = 30.0


@dataclass
class _Flight:
    generation: int
    done: threading.Event = field(default_factory=threading.Event)
    result: bytes | None = None


class Coalescer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._generation = 0

    def invalidate(self) -> None:
        """A write happened: later reads must not join computations already under way."""
        with self._lock:
            self._generation += 1

    def _join(self, key: str) -> tuple[_Flight, bool]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None and flight.generation == self._generation:
                return flight, False
            flight = self._flights[key] = _Flight(self._generation)
            return flight, True

    def run(self, key: str, compute: Callable[[], bytes]) -> bytes:
        """The body for ``key``: computed here, or shared with the request already computing it."""
        flight, leader = self._join(key)
        if not leader:
            if flight.done.wait(FOLLOWER_WAIT) and flight.result is not None:
                return flight.result
            return compute()
        try:
            flight.result = compute()
            return flight.result
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()


class _Read:
    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


class FreshReads:
    """Reads shared among the requests that arrived before they started (see the module's text)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._waiting: dict[Hashable, _Read] = {}  # the next read of each key, not started yet
        self._running: set[Hashable] = set()

    def read(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        """The value ``fetch()`` returns when started now or later: run here, or by another request
        that arrived before the read began. An error of the read is raised to each request it served."""
        with self._changed:
            mine = self._waiting.get(key)
            if mine is None:
                mine = self._waiting[key] = _Read()
            while not mine.done:
                if key not in self._running and self._waiting.get(key) is mine:
                    self._running.add(key)
                    del self._waiting[key]
                    break
                self._changed.wait()
            else:
                return _result(mine)
        try:
            mine.value = fetch()
        except BaseException as exc:
            mine.error = exc
        with self._changed:
            mine.done = True
            self._running.discard(key)
            self._changed.notify_all()
        return _result(mine)


def _result(read: _Read) -> Any:
    if read.error is not None:
        raise read.error
    return read.value


def init_app(app: Flask) -> None:
    app.extensions["ooi_status.coalescer"] = Coalescer()
    app.extensions["ooi_status.fresh_reads"] = FreshReads()


def fresh_read(key: Hashable, fetch: Callable[[], Any]) -> Any:
    """``fetch()``, or its result for a request that started it after this one arrived (this worker)."""
    reads: FreshReads = current_app.extensions["ooi_status.fresh_reads"]
    return reads.read(key, fetch)


def coalescer() -> Coalescer:
    """This app's (this worker's) coalescer."""
    return current_app.extensions["ooi_status.coalescer"]


def invalidate() -> None:
    coalescer().invalidate()
