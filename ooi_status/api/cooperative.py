"""Long answers built in slices, so that a gevent worker's other requests are served meanwhile.

A gevent worker runs every request of its connections on one thread: Python work that does not
wait holds all of them. Most requests take a few milliseconds; the list of the whole fleet, built
again after each data revision, held the loop for 40–65 ms at a stretch on a fast machine (three
times that on a slow one), and every other request of the worker waited that long. ``slices`` and
``gzip_slices`` give the loop back between slices of such work with ``gevent.idle()``: the loop
takes in the events ready (requests that arrived, answers from the database) and runs the
greenlets they wake, then this one goes on. (``gevent.sleep(0)`` does not do that: it lets only
greenlets already scheduled run, not those waiting on a socket or a timer; measured, the other
requests were not served meanwhile.) Outside a gevent worker (the monitor, tests, the Flask test
client) the same work is done in one go.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Rows (deployed streams) serialized between two pauses: about 2 ms of work.
ROWS = 1000
#: Bytes compressed between two pauses: about 2 ms at gzip level 6.
BYTES = 256 * 1024


def pause() -> None:
    """Let the loop serve what is ready, in a gevent worker; nothing elsewhere."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        import gevent

        gevent.idle()


def slices(items: Sequence[T], size: int = ROWS) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``, a pause between two slices."""
    for start in range(0, len(items), size):
        if start:
            pause()
        yield items[start : start + size]


def gzip_slices(body: bytes, level: int) -> bytes:
    """``body`` gzip-compressed (RFC 1952, modification time 0), ``BYTES`` at a time with a pause
    between (``gzip.compress`` holds the loop for the whole body: about 18 ms for the fleet's
    failed streams here)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = []
    for start in range(0, len(body), BYTES):
        if start:
            pause()
        parts.append(packer.compress(body[start : start + BYTES]))
    parts.append(packer.flush())
    return b"".join(parts)
