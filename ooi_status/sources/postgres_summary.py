"""PostgreSQL does the per-bin part of the availability rules; only the bins that matter come back.

A dense stream of ten years of daily bins has ~3,600 bins, of which a handful start a gap, are
sparse, or reach outside the window. Here one statement computes, over the bins of every
selected stream of an instrument (one row per bin, the first store by name), with window
functions: how many bins overlap the window, the exact sum of the counts of those wholly inside
it, the first point and the reach (latest last point) of the stream, and for each bin the reach
of the bins before it in the rules' order (first, last, count: bin order, when the bins' first
points increase with their number, as they do). It returns, per stream:

- every bin, when the stream may not take the dense branch or its bins' order by number is not
  their order by first point (its answer is then the Python path's);
- otherwise its first bin (every stream with a bin has a row), the bins reaching outside the
  window, those whose distance from the reach before them may exceed the gap threshold, and
  those whose separation may exceed the mean interval, each test with a relative margin of
  1e-9, so that float rounding in PostgreSQL's sums can only add bins, never leave one out.
  ``availability.summary_spans`` then decides every bin exactly as ``stream_spans`` does,
  from the same floats: the spans are identical.

The rules' thresholds and counts come from ``availability.Rules``; this module only prunes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from functools import cache

from sqlalchemy import Connection, text

from ooi_status.availability.engine import Bin, BinSummary, Rules, Window
from ooi_status.sources.base import StreamKey, bin_bound

#: Relative slack of the pruning tests (PostgreSQL's float sums against the exact ones).
MARGIN = 1e-9

# Per stream (a LATERAL subquery, so the window functions run over one stream's bins in the
# index's bin order, without sorting the instrument's bins together): b) one row per bin, the
# first store by name; w) running and whole-stream figures; d) whether bin order is first-point
# order (it is for real bins: then the rules' order is bin order) and the branch.
_SUMMARY = """
SELECT k.method, k.stream, d.count, d.first, d.last, greatest(d.before, d.first_point),
       d.kept, d.inside_count, d.first_point, d.last_point, d.dense
FROM (VALUES {keys}) AS k (method, stream)
CROSS JOIN LATERAL (
    SELECT w.*, (w.ordered AND w.kept > :min_bins AND w.total > 0
                 AND :length / w.total < :threshold * (1 - :margin)) AS dense
    FROM (
        SELECT v.*, bool_and(v.previous_first IS NULL OR v.first > v.previous_first) OVER () AS ordered
        FROM (
            SELECT b.count, b.first, b.last,
                   (b.first >= :start AND b.last <= :stop) AS inside,
                   max(b.first) OVER preceding AS previous_first,
                   max(b.last) OVER preceding AS before,
                   row_number() OVER (ORDER BY b.bin) AS position,
                   count(*) OVER () AS kept,
                   sum(b.count) FILTER (WHERE b.first >= :start AND b.last <= :stop) OVER () AS inside_count,
                   sum(CASE WHEN (b.first >= :start AND b.last <= :stop) OR b.last <= b.first
                            THEN b.count::float8
                            ELSE b.count * (least(b.last, :stop) - greatest(b.first, :start))
                                 / (b.last - b.first)
                       END) OVER () AS total,
                   min(b.first) OVER () AS first_point,
                   max(b.last) OVER () AS last_point
            FROM (
                SELECT DISTINCT ON (q.bin) q.bin, q.count, q.first, q.last
                FROM partition_metadata AS q
                WHERE q.subsite = :subsite AND q.node = :node AND q.sensor = :sensor
                  AND q.method = k.method AND q.stream = k.stream
                  AND q.bin < :bin_stop AND q.last > :start AND q.first < :stop
                ORDER BY q.bin, q.store
            ) AS b
            WINDOW preceding AS (ORDER BY b.bin ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ) AS v
    ) AS w
) AS d
WHERE NOT d.dense OR NOT d.inside OR d.position = 1
   OR d.first - greatest(d.before, d.first_point) > :threshold * (1 - :margin)
   OR (d.count > 1 AND (d.last - d.first) / d.count > :length / d.total * :ratio * (1 - :margin))
ORDER BY k.method, k.stream, d.first, d.last, d.count
"""


@cache
def _statement(streams: int) -> str:
    return _SUMMARY.format(keys=", ".join(f"(:m{i}, :s{i})" for i in range(streams)))


def summaries(
    conn: Connection,
    parts: tuple[str, str, str],
    keys: Collection[StreamKey],
    window: Window,
    rules: Rules,
) -> dict[StreamKey, BinSummary]:
    """The summary of each stream with a bin in the window (streams without one are left out)."""
    keys = sorted(keys)
    length = window.stop - window.start
    params: dict[str, object] = {"subsite": parts[0], "node": parts[1], "sensor": parts[2]}
    params.update(
        start=window.start,
        stop=window.stop,
        bin_stop=bin_bound(window.stop),
        length=length,
        threshold=length * rules.gap_threshold_fraction,
        min_bins=rules.min_bins_for_gaps,
        ratio=min(1.0, rules.sparse_min),
        margin=MARGIN,
    )
    for i, (method, stream) in enumerate(keys):
        params[f"m{i}"], params[f"s{i}"] = method, stream
    rows: dict[StreamKey, list[tuple[Bin, float]]] = defaultdict(list)
    heads: dict[StreamKey, tuple] = {}
    for (
        method,
        stream,
        count,
        first,
        last,
        before,
        kept,
        inside,
        first_point,
        last_point,
        dense,
    ) in conn.execute(text(_statement(len(keys))), params):
        rows[(method, stream)].append((Bin(first, last, count), before))
        heads.setdefault((method, stream), (kept, inside, first_point, last_point, dense))
    return {
        key: BinSummary(
            kept=head[0],
            inside_count=int(head[1] or 0),
            first_point=head[2],
            reach=max(head[2], head[3]),
            bins=tuple(rows[key]),
            complete=not head[4],
        )
        for key, head in heads.items()
    }
