"""PostgreSQL does the per-bin part of the availability rules that needs no neighbour; what
comes back is what the rules need of the bins, not every bin whole.

One statement reads the bins of every selected stream of an instrument through the unique index,
as the packed read does (ooi_status.sources.postgres), and returns per stream and store: how many
bins overlap the window; the exact sum of the counts of those wholly inside it; the first and last
point of every bin (16 bytes each, against the 32 of a whole packed bin: the gaps and the Present
stretch are a running maximum over them in ``availability.summary_spans``); and, whole, the
candidates: every bin reaching outside the window (rule 1's total counts part of it) and every bin
whose separation (last - first) / count is above a floor, the mean interval the stream would have
if the window held all of its points (its ``stream_metadata`` count), so that over a stream's whole
time only its sparse bins come back.

Finding a bin's gap needs the bins before it (a window function over ~30,000 rows costs the
database more than packing them all, measured in benchmarks/README.md); everything else is per bin
or a sum. ``availability.summary_spans`` checks what the floor assumes against the exact mean
interval and decides the spans with the same arithmetic as ``stream_spans``, or declines (rows
from several stores, points that are not finite numbers, a stream row whose count is below its
bins'): then the stream's bins are read. The rules' thresholds come from ``availability.Rules``;
this module only prunes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

import numpy as np
from sqlalchemy import Connection, text

from ooi_status.availability.engine import BinColumns, BinSummary, Rules, Window
from ooi_status.sources.base import StreamKey, StreamRow, bin_bound

#: Relative slack of the floor under the mean interval of the stream's whole count: the rounding
#: of rule 1's float total must not make a summary decline.
MARGIN = 1e-9

#: The rows of one stream (k) of one instrument overlapping the window, found through the unique
#: index (a bin starts at or before its first point: the index range), by store.
STREAM_BINS_BY_STORE = """FROM partition_metadata AS p
    WHERE p.subsite = :subsite AND p.node = :node AND p.sensor = :sensor
      AND p.method = k.method AND p.stream = k.stream
      AND p.bin < :bin_stop AND p.last > :start AND p.first < :stop
    GROUP BY p.store"""

# Per stream (a LATERAL subquery over the index's rows of that stream), one row per store.
_SUMMARY = """
SELECT k.method, k.stream, b.kept, b.inside_count, b.points, b.candidates
FROM (VALUES {keys}) AS k (method, stream, floor)
CROSS JOIN LATERAL (
    SELECT p.store,
           count(*) AS kept,
           sum(p.count) FILTER (WHERE p.first >= :start AND p.last <= :stop) AS inside_count,
           string_agg(float8send(p.first) || float8send(p.last), ''::bytea) AS points,
           string_agg(float8send(p.first) || float8send(p.last) || int8send(p.count), ''::bytea)
               FILTER (WHERE NOT (p.first >= :start AND p.last <= :stop)
                          OR CASE WHEN p.count > 1 THEN (p.last - p.first) / p.count > k.floor END)
               AS candidates
    {bins}
) AS b
"""

#: A bin's points: first, last (float8send each); a candidate: first, last, count (and int8send).
_POINTS = np.dtype([("first", ">f8"), ("last", ">f8")])
_CANDIDATE = np.dtype([("first", ">f8"), ("last", ">f8"), ("count", ">i8")])


@cache
def _statement(streams: int) -> str:
    keys = ", ".join(f"(:m{i}, :s{i}, CAST(:f{i} AS float8))" for i in range(streams))
    statement = _SUMMARY.format(keys=keys, bins=STREAM_BINS_BY_STORE)
    for name in ("start", "stop"):  # float8 throughout, never numeric
        statement = statement.replace(f":{name}", f"CAST(:{name} AS float8)")
    return statement


def summaries(
    conn: Connection,
    parts: tuple[str, str, str],
    streams: Sequence[StreamRow],
    window: Window,
    rules: Rules,
) -> dict[StreamKey, BinSummary]:
    """The summary of each stream (``kept`` 0 without a bin in the window); none when the window is
    not a positive length."""
    length = window.stop - window.start
    ratio = min(1.0, rules.sparse_min)
    chosen = sorted(streams, key=lambda row: (row.method, row.stream))
    if not chosen or not (math.isfinite(length) and length > 0):
        return {}
    params: dict[str, object] = {"subsite": parts[0], "node": parts[1], "sensor": parts[2]}
    params.update(start=window.start, stop=window.stop, bin_stop=bin_bound(window.stop))
    floors: dict[StreamKey, float] = {}
    for i, row in enumerate(chosen):
        # Below the mean interval of the stream's whole count, by a margin for the rounding of rule
        # 1's float total; 0 (every bin of several points a candidate) without a positive count or
        # for odd level settings.
        points = row.points
        known = isinstance(points, int) and points > 0 and ratio > 0
        floor = length / points * ratio * (1 - MARGIN) if known and points else 0.0
        floors[(row.method, row.stream)] = floor
        params[f"m{i}"], params[f"s{i}"], params[f"f{i}"] = row.method, row.stream, floor
    found: dict[StreamKey, BinSummary] = {}
    for method, stream, kept, inside, points, candidates in conn.execute(
        text(_statement(len(chosen))), params
    ):
        key = (method, stream)
        if key in found:  # a second store: the rows of one bin could not be told apart
            found[key] = replace(found[key], stores=found[key].stores + 1)
            continue
        bins = np.frombuffer(points, dtype=_POINTS)
        picked = np.frombuffer(candidates or b"", dtype=_CANDIDATE)
        found[key] = BinSummary(
            kept=int(kept),
            inside_count=int(inside or 0),
            firsts=bins["first"].astype(np.float64),
            lasts=bins["last"].astype(np.float64),
            floor=floors[key],
            candidates=BinColumns(
                picked["first"].astype(np.float64),
                picked["last"].astype(np.float64),
                picked["count"].astype(np.int64),
            ),
        )
    nothing = np.empty(0, dtype=np.float64)
    for key, floor in floors.items():
        if key not in found:
            empty = BinColumns(nothing, nothing, np.empty(0, dtype=np.int64))
            found[key] = BinSummary(0, 0, nothing, nothing, floor, empty)
    return found
