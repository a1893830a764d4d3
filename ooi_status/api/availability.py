"""GET /available/<refdes>: from the request's arguments to the instrument's Timeline.

Three steps, each callable on its own: ``parse_query`` checks the arguments (every
problem is a BadRequest naming the parameter), ``build_timeline`` reads the metadata
through the sources and runs the span engine, and the view serializes the result.

Reads per request: the instrument's deployments and its stream_metadata rows (from the
configured stream source; one statement when that is the metadata database), and the bins
of every selected stream in one query (plus one look for any deployment row when the
instrument has neither, to tell an unknown refdes from an empty one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ooi_status.api.arguments import Arguments, choice, single, timestamp
from ooi_status.api.context import MetadataSources
from ooi_status.api.errors import BadRequest, NotFound
from ooi_status.availability.engine import (
    Deployment,
    Rules,
    StreamTimeline,
    Timeline,
    Window,
    deployment_spans,
    resolve_window,
    stream_spans,
    summary_spans,
)
from ooi_status.config import Settings
from ooi_status.sources.base import DeploymentRow, StreamRow, split_refdes
from ooi_status.times import datetime_to_ntp, unix_ms_to_ntp

FORMATS = ("json", "csv", "tsv", "svg")
REFDES_EXAMPLE = "CE02SHBP-LJ01D-06-CTDBPN106"


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    refdes: str
    method: str | None = None  # exact; None: every method but the excluded prefix
    stream: str | None = None  # exact
    start: datetime | None = None
    stop: datetime | None = None
    format: str = "json"


def parse_query(refdes: str, args: Arguments) -> AvailabilityQuery:
    """The checked arguments of one request. An empty value counts as absent; other query
    arguments are ignored (clients add cache-busting ones); a known one given twice is a 400."""
    if "\x00" in refdes or split_refdes(refdes) is None:
        if "/" in refdes:  # a path below a reference designator rather than one containing "/"
            raise NotFound(f"no such resource: {refdes!r} is not a reference designator; see /openapi.json")
        raise BadRequest(
            f"refdes: {refdes!r} is not a reference designator SUBSITE-NODE-SENSOR "
            f"(three parts of at most 16 characters, e.g. {REFDES_EXAMPLE})"
        )
    method, stream = single(args, "method"), single(args, "stream")
    start, stop = timestamp(args, "start_time"), timestamp(args, "stop_time")
    return AvailabilityQuery(refdes, method, stream, start, stop, choice(args, "format", FORMATS, "json"))


def select_streams(
    rows: Sequence[StreamRow], method: str | None, stream: str | None, excluded_prefix: str
) -> list[StreamRow]:
    """The streams a request shows, ordered by method then stream. Without a method, every
    method except those starting with the excluded prefix; method and stream match exactly."""
    chosen = [
        row
        for row in rows
        if (row.method == method if method is not None else not _excluded(row.method, excluded_prefix))
        and (stream is None or row.stream == stream)
    ]
    chosen.sort(key=lambda row: (row.method, row.stream))
    return chosen


def _excluded(method: str, prefix: str) -> bool:
    return bool(prefix) and method.startswith(prefix)


def engine_deployments(rows: Sequence[DeploymentRow]) -> list[Deployment]:
    """Deployments as the engine takes them: Unix ms → NTP seconds."""
    return [
        Deployment(
            row.number,
            unix_ms_to_ntp(row.start_ms),
            None if row.stop_ms is None else unix_ms_to_ntp(row.stop_ms),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class TimelineInputs:
    """What one request's timeline is computed from, bins aside: the deployments, the selected
    streams' stream_metadata rows (count, first, last: the version of their bins) and the window."""

    query: AvailabilityQuery
    deployed: list[Deployment]
    selected: list[StreamRow]
    window: Window | None

    def version(self) -> tuple[object, ...]:
        """Everything the answer depends on but the bins, whose version is in ``selected``."""
        rows = tuple(tuple(row) for row in self.selected)
        window = None if self.window is None else (self.window.start, self.window.stop)
        return (self.query, tuple(self.deployed), rows, window)


def read_inputs(
    query: AvailabilityQuery, sources: MetadataSources, settings: Settings, now: datetime
) -> TimelineInputs:
    """Read the deployments and stream rows of one instrument (one statement on PostgreSQL) and
    resolve the window."""
    now_ntp = datetime_to_ntp(now)
    start, stop = _requested_window(query, now_ntp)
    streams, deployments = sources.streams, sources.deployments
    refdes = query.refdes
    deployment_rows, every_stream = deployments.instrument_rows(refdes, streams)
    deployed = engine_deployments(deployment_rows)
    # Known when the stream source has a stream of it or the metadata database a deployment (even
    # one without a start time): the same rule as sources.base.instrument_exists, without reading twice.
    unknown = not deployed and not every_stream and not deployments.has_deployment(refdes)
    if unknown:
        raise NotFound(
            f"refdes: {refdes!r} is not a known instrument: the stream metadata has no stream of it "
            "and the metadata database no deployment"
        )
    selected = select_streams(
        every_stream, query.method, query.stream, settings.AVAILABILITY_EXCLUDED_METHOD_PREFIX
    )
    # The instrument's earliest point, over all its streams: every filter draws the same window.
    earliest = min((row.first for row in every_stream if row.first is not None), default=None)
    return TimelineInputs(query, deployed, selected, resolve_window(deployed, start, stop, now_ntp, earliest))


def build_timeline(
    query: AvailabilityQuery,
    sources: MetadataSources,
    settings: Settings,
    now: datetime,
) -> Timeline:
    """Read the metadata of one instrument and compute its timeline (spec AVAILABILITY.md)."""
    return compute_timeline(read_inputs(query, sources, settings, now), sources, settings)


def compute_timeline(inputs: TimelineInputs, sources: MetadataSources, settings: Settings) -> Timeline:
    """The timeline from its inputs: the bins are read (or summarised by PostgreSQL) here."""
    refdes, deployed, selected, window = inputs.query.refdes, inputs.deployed, inputs.selected, inputs.window
    streams = sources.streams
    if window is None:
        return Timeline(refdes, None, [], [StreamTimeline(row.method, row.stream, []) for row in selected])
    rules = Rules.from_settings(settings)
    keys = [(row.method, row.stream) for row in selected]
    # With the bins kept (the bin cache) reading them whole pays at the next request; without, the
    # database's summary of them costs less than reading them (benchmarks/README.md).
    pruned = settings.AVAILABILITY_RULES_IN_DATABASE and not sources.bin_cache.enabled
    summarise = getattr(streams, "summaries", None) if pruned else None
    found = summarise(refdes, selected, window, rules) if summarise is not None and keys else None
    spans = {}
    if found:  # PostgreSQL did the per-bin part of the rules; the streams it could not decide are read
        for key, summary in found.items():
            if (decided := summary_spans(summary, deployed, window, rules)) is not None:
                spans[key] = decided
    unread = [row for row in selected if (row.method, row.stream) not in spans]
    bins = sources.bin_cache.bins(streams, refdes, unread, window.start, window.stop) if unread else {}
    for row in unread:
        key = (row.method, row.stream)
        spans[key] = stream_spans(bins.get(key, ()), deployed, window, rules)
    rows = [StreamTimeline(method, stream, spans[(method, stream)]) for method, stream in keys]
    return Timeline(refdes, window, deployment_spans(deployed, window), rows)


def _requested_window(query: AvailabilityQuery, now_ntp: float) -> tuple[float | None, float | None]:
    """start_time and stop_time in NTP seconds; an empty window (after clamping stop to now) is a 400."""
    start = None if query.start is None else datetime_to_ntp(query.start)
    stop = None if query.stop is None else datetime_to_ntp(query.stop)
    if start is not None and not start < min(now_ntp if stop is None else stop, now_ntp):
        clamped = "now" if stop is None or stop >= now_ntp else "stop_time"
        raise BadRequest(
            f"start_time/stop_time: the window is empty: start_time must be before {clamped} "
            "(stop_time defaults to now and is clamped to now)"
        )
    return start, stop
