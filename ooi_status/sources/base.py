"""Where stream and bin metadata come from: the interface both readers implement.

Stream and bin metadata (stream_metadata, partition_metadata) come from the
configured StreamSource: PostgreSQL (METADATA_URL) or Cassandra. Deployments and
asset UIDs always come from the metadata PostgreSQL database (DeploymentSource). An
instrument exists when the stream source has a stream of it or the metadata database a
deployment of it (``instrument_exists``).
Times stay NTP seconds (bins) and Unix ms (deployments) here: callers convert with
ooi_status.times. Rows are any objects with the attributes named below (tuples with
names), so large results are not copied into new objects.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from functools import partial
from typing import NamedTuple, Protocol

_MAX_BIGINT = 2**63 - 1
_MIN_BIGINT = -(2**63)


class StreamRow(NamedTuple):
    """A stream_metadata row; ``points`` is its ``count`` column (a field named count would
    hide tuple.count)."""

    subsite: str
    node: str
    sensor: str
    method: str
    stream: str
    points: int | None
    first: float | None
    last: float | None


class BinRow(NamedTuple):
    """A partition_metadata row; ``points`` is its ``count`` column."""

    bin: int
    points: int
    first: float
    last: float


#: A BinRow from a 4-sequence (bin, points, first, last), without a Python-level call.
bin_row = partial(tuple.__new__, BinRow)


class OpenDeployment(NamedTuple):
    """The deployment of an instrument in the water now, and the asset UID events go to."""

    refdes: str
    number: int
    asset_uid: str


class DeploymentRow(NamedTuple):
    number: int
    start_ms: int
    stop_ms: int | None  # None: still deployed


StreamKey = tuple[str, str]  # (method, stream)
StreamId = tuple[str, str, str]  # (refdes, method, stream)
StreamPoints = tuple[int | None, float | None, float | None]  # a StreamRow's points, first, last
# (refdes, method, stream, start_ntp, min_bin): bins overlapping (start_ntp, ...) that start at
# or after min_bin (None: any); see PostgresStreamSource.bins_of_streams.
BinRequest = tuple[str, str, str, float, int | None]


class SourceUnavailable(Exception):
    """The source did not answer (server down, timeout, node lost): skip the round or answer 503."""


class StreamSource(Protocol):
    def streams(
        self, methods: Collection[str] | None = None, refdes: Collection[str] | None = None
    ) -> Sequence[StreamRow]:
        """stream_metadata rows, filtered by method and/or instrument when given."""
        ...

    def bins(
        self, refdes: str, keys: Collection[StreamKey], start_ntp: float, stop_ntp: float
    ) -> dict[StreamKey, Sequence[BinRow]]:
        """Bins of those streams of one instrument overlapping (start, stop), ordered by bin.

        Overlapping: ``last > start and first < stop``. One row per bin: where a bin is held in
        several stores (partition_metadata.store), the row of the first store by name is kept,
        so that copies are not counted twice. Streams without such a bin are left out.
        """
        ...

    def close(self) -> None: ...


class DeploymentSource(Protocol):
    def open_deployments(self, now_ms: int) -> dict[str, OpenDeployment]:
        """Instruments in the water at now_ms whose deployed asset has a UID, by refdes."""
        ...

    def deployments(self, refdes: str) -> list[DeploymentRow]:
        """Every deployment of one instrument, ordered by start (latest version of each number)."""
        ...

    def has_deployment(self, refdes: str) -> bool:
        """Whether the metadata database holds a deployment of the instrument (any, even one
        without a start time)."""
        ...

    def instrument_rows(
        self, refdes: str, streams: StreamSource
    ) -> tuple[list[DeploymentRow], Sequence[StreamRow]]:
        """``deployments(refdes)`` and ``streams.streams(refdes=[refdes])``, read together."""
        ...


def instrument_exists(refdes: str, streams: StreamSource, deployments: DeploymentSource) -> bool:
    """Known to the configured stream source (a stream) or to the metadata database (a deployment).

    The stream source is the one STREAM_SOURCE names: with Cassandra, PostgreSQL's stream_metadata
    may be empty or stale and is not asked. Raises SourceUnavailable when a source does not answer.
    """
    if split_refdes(refdes) is None:
        return False
    return bool(streams.streams(refdes=[refdes])) or deployments.has_deployment(refdes)


def split_refdes(refdes: str) -> tuple[str, str, str] | None:
    """``SUBSITE-NODE-SENSOR`` (SENSOR may contain dashes) → parts, or None when malformed."""
    parts = refdes.split("-", 2)
    if len(parts) != 3 or not all(parts) or any(len(p) > 16 for p in parts):
        return None
    return parts[0], parts[1], parts[2]


def bin_bound(stop_ntp: float) -> int:
    """The bigint ``b`` such that for every integer bin: ``bin < b`` exactly when ``bin < stop_ntp``."""
    if math.isnan(stop_ntp) or stop_ntp >= _MAX_BIGINT:
        return _MAX_BIGINT
    if stop_ntp <= _MIN_BIGINT:
        return _MIN_BIGINT
    return math.ceil(stop_ntp)
