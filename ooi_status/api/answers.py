"""List answers keyed on the data revision: cached per process, conditional, compressed.

A list view (``/stream``, ``/instrument``, ``/expected``, a stream's history, and any route added
later that lists the monitor schema) is wrapped with ``@revision_cached(parse)``:

1. ``parse(request.args)`` checks and normalises the query (a BadRequest is a 400 before any
   read); the normalised query, the endpoint and its URL arguments make the answer's key.
2. The data revision (ooi_status.revision) is read before anything else, by a read that began
   after the request arrived (every write committed before it is in it); requests arriving
   together share one such read (ooi_status.api.coalesce.FreshReads), so a worker under load
   reads the revision about once per round trip, not once per request.
3. The ETag is ``W/"<revision>-<hash of key>"``: a client sending it back in ``If-None-Match``
   gets a 304 without the answer being built or looked up.
4. Otherwise the body comes from this process's cache, by (key, revision, encoding), or is built
   (identical requests under way share one computation, ooi_status.api.coalesce), JSON-encoded,
   gzip-compressed for clients that accept it when larger than API_GZIP_MIN_BYTES (once for all
   the identical requests under way), and kept.

Why this is never stale: an entry is only used for the revision it was built under, and the
revision is read at the start of every request (one statement, no transaction: one round trip),
after which the data are read (each statement begins later and sees at least what it saw). A
write anywhere (another worker, the monitor) that committed before a request arrived has moved
the revision that request reads, so it can only miss. Entries of any other revision are dropped
as soon as a request sees a new one.

Answers vary with the data only through the revision: a view whose answer also depends on the
clock passes ``clock_key`` (a function of the revision returning what of the clock matters, e.g.
``silence_epoch``: how many silence boundaries have passed), which joins the key and the ETag.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ooi_status import __version__, revision
from ooi_status.api import cooperative
from ooi_status.api.coalesce import coalescer, fresh_read
from ooi_status.api.context import current_databases, current_settings, monitor_session
from ooi_status.api.encoder import json_bytes
from ooi_status.model.monitor import Silence
from ooi_status.reports import without_gc
from ooi_status.times import utcnow

IDENTITY, GZIP = "identity", "gzip"
#: A revision this much below the latest seen means the revision row was started afresh.
_RESTARTED = 1_000_000
Parse = Callable[[MultiDict[str, str]], Hashable]


class AnswerCache:
    """Encoded bodies of one revision, by (key, encoding); at most ``max_bytes`` in all (LRU)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.revision: int | None = None
        self._entries: OrderedDict[tuple[Hashable, str], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def seen(self, current: int) -> None:
        """A request read ``current``: entries of an older revision are of no more use. (A request
        that read just before a write may report the previous revision after a later one did: that
        does not go back. A jump far down is a table started afresh: it does.)"""
        with self._lock:
            previous = self.revision
            if previous is None or current > previous or current < previous - _RESTARTED:
                self._entries.clear()
                self._bytes = 0
                self.revision = current

    def get(self, current: int, key: Hashable, encoding: str) -> bytes | None:
        with self._lock:
            if current != self.revision:
                return None
            body = self._entries.get((key, encoding))
            if body is not None:
                self._entries.move_to_end((key, encoding))
            return body

    def put(self, current: int, key: Hashable, encoding: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if current != self.revision:  # built under a revision a later request has moved past
                return
            old = self._entries.pop((key, encoding), None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._entries[(key, encoding)] = body
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask, max_bytes: int) -> None:
    app.extensions["ooi_status.answers"] = AnswerCache(max_bytes)
    # /available answers, by the version of their inputs (a fixed "revision" 0): a quarter as much.
    app.extensions["ooi_status.available_answers"] = available = AnswerCache(max_bytes // 4)
    available.seen(0)


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def revision_cached(
    parse: Parse | None = None, *, clock_key: Callable[[int], Hashable] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Wrap a view returning a JSON-able value: ``view(query, **url_arguments)`` (``query`` is
    what ``parse`` made of the arguments; without ``parse`` the view gets only the URL arguments)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**url_arguments: Any) -> Response:
            query = parse(request.args) if parse is not None else None
            key: tuple[Hashable, ...] = (request.endpoint, tuple(sorted(url_arguments.items())), query)
            cache: AnswerCache = current_app.extensions["ooi_status.answers"]
            current = fresh_read("data revision", _read_revision)
            cache.seen(current)
            if clock_key is not None:
                key = (*key, clock_key(current))
            etag = f"{current}-{_digest(key)}"
            if request.if_none_match.contains_weak(etag):
                return _finish(current_app.response_class(status=304), etag)

            def build() -> bytes:
                # Tens of thousands of rows and dicts, none in a cycle: the collector would walk the
                # whole process several times meanwhile (reports.without_gc), holding the loop.
                with without_gc():
                    value = view(query, **url_arguments) if parse is not None else view(**url_arguments)
                    return json_bytes(value)

            encoding = GZIP if accepts_gzip() else IDENTITY
            body = cached_body(cache, current, key, encoding, build)
            response = current_app.response_class(body, mimetype="application/json")
            return _finish(encoded(response, encoding), etag)

        return wrapper

    return decorate


def revision_now() -> tuple[AnswerCache, int]:
    """This process's answer cache and the data revision of this request, read as
    ``revision_cached`` reads it: for a view that keeps part of its answer (``cached_body``)."""
    cache: AnswerCache = current_app.extensions["ooi_status.answers"]
    current = fresh_read("data revision", _read_revision)
    cache.seen(current)
    return cache, current


def _read_revision() -> int:
    """The revision, read by one statement on a connection of its own, no transaction around it (one
    round trip on PostgreSQL). The view reads after it, in its own session: each of its statements
    begins after this one ended, and sees at least what it saw."""
    return revision.read_current(current_databases().monitor_reads)


def cached_body(
    cache: AnswerCache, current: int, key: Hashable, encoding: str, build: Callable[[], bytes]
) -> bytes:
    """The body in ``encoding``: kept, derived from the other encoding kept, or built. Identical
    requests under way share the building and the compressing (one flight per encoding)."""
    found = cache.get(current, key, encoding)
    if found is not None:
        return found

    def encode() -> bytes:
        if encoding == GZIP:
            body = compress(cached_body(cache, current, key, IDENTITY, build))
        else:
            kept = cache.get(current, key, GZIP)
            if kept is None:
                body = build()
            elif kept[:2] == b"\x1f\x8b":
                body = gzip.decompress(kept)
            else:
                body = kept  # a small body is kept as it is under either encoding
        cache.put(current, key, encoding, body)
        return body

    return coalescer().run(f"{current}\x00{key!r}\x00{encoding}", encode)


def encoded(response: Response, encoding: str) -> Response:
    """The headers of a body from ``cached_body`` in ``encoding``: ``Content-Encoding: gzip`` when
    it is compressed (a body below API_GZIP_MIN_BYTES is sent as it is under either encoding),
    and ``Vary: Accept-Encoding`` always."""
    if encoding == GZIP and response.get_data()[:2] == b"\x1f\x8b":
        response.headers["Content-Encoding"] = GZIP
    response.vary.add("Accept-Encoding")
    return response


def compress(body: bytes) -> bytes:
    """gzip for bodies of at least API_GZIP_MIN_BYTES; smaller ones are sent as they are."""
    settings = current_settings()
    if len(body) < settings.API_GZIP_MIN_BYTES:
        return body
    return cooperative.gzip_slices(body, settings.API_GZIP_LEVEL)


def _finish(response: Response, etag: str) -> Response:
    response.set_etag(etag, weak=True)
    response.vary.add("Accept-Encoding")  # a 304 too
    private = current_settings().API_REQUIRE_KEY_FOR_READS
    # Any cache may keep the answer but must ask again (If-None-Match) before reusing it.
    response.headers["Cache-Control"] = "private, no-cache" if private else "no-cache"
    return response


def _digest(key: Hashable) -> str:
    return hashlib.blake2b(f"{__version__}\x00{key!r}".encode(), digest_size=8).hexdigest()


def silence_epoch(current: int) -> int:
    """How many starts and ends of silences have passed: ``silenced`` on streams and instruments
    changes with the clock exactly then. The boundaries still ahead are read once per revision
    (silences change only by writes, which move it) and per process."""
    now = utcnow()
    kept = current_app.extensions.get("ooi_status.silence_boundaries")
    if kept is None or kept[0] != current:
        ahead = select(Silence.starts_at, Silence.ends_at).where(Silence.ends_at > now)
        rows = monitor_session().execute(ahead).all()
        monitor_session().rollback()  # ended here: the view reads in transactions of its own
        kept = (current, sorted(moment for row in rows for moment in row))
        current_app.extensions["ooi_status.silence_boundaries"] = kept
    return bisect.bisect_right(kept[1], now)
