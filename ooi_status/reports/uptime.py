"""Uptime from the status history: time in each status per stream, instrument, node and site.

Everything is computed in SQL over ``status_history`` with window functions (one statement
for the streams, one for the instruments), the same text on SQLite and PostgreSQL but for
the expression turning a timestamp into epoch seconds. When no silence overlaps the window
(one indexed look first) the statement leaves the silence edges out: every point is then a
change of status and one window pass times the segments (the general statement needs three
sorts of every point; both answer the same, a property test checks it).

Definitions (README, "Reports"):
- A stream's status at a moment is the ``new_status`` of its latest history row at or before
  it; before its first history row it is that row's ``old_status`` (notTracked for a stream
  created later: it did not exist); a stream without history has its current status throughout.
- Disabling a stream sets its intervals to 0: the next round records the change to notTracked
  in the history like any other, so disabled time is notTracked time (to the round).
- A stream is *silenced* while a silence covering it is in force (ooi_status.silences:
  refdes prefix, method and stream); silenced time is counted apart whatever the status.
- An instrument's status at a moment is the rollup of its streams' (failed > degraded >
  operational > notTracked), silenced streams left out; an instrument whose every stream is
  left out by a silence is silenced.
- Uptime = operational / (operational + degraded + failed): notTracked (disabled, not yet
  created) and silenced time are left out of the denominator. None when that is 0.
- Nodes and sites add up their instruments' seconds: a site's uptime is the share of its
  instrument-time that was operational.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from ooi_status.model.types import UTCDateTime
from ooi_status.reports import in_memory
from ooi_status.times import as_utc

OPERATIONAL, DEGRADED, FAILED, NOT_TRACKED, SILENCED = (
    "operational",
    "degraded",
    "failed",
    "notTracked",
    "silenced",
)
#: The seconds of every row, in this order (CSV columns too).
STATES = (OPERATIONAL, DEGRADED, FAILED, NOT_TRACKED, SILENCED)
GROUPS = ("stream", "instrument", "node", "site")

_EPOCH = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM {}) AS double precision)",
    "sqlite": "((julianday({}) - 2440587.5) * 86400.0)",
}

# Each stream and its status at the window start.
_STREAMS_AT_START = """
streams AS (
    SELECT ds.id AS sid, ds.reference_designator_id AS rid, rd.name AS refdes,
           es.method AS method, es.name AS stream,
           COALESCE(
               (SELECT h.new_status FROM status_history h
                WHERE h.deployed_stream_id = ds.id AND h.changed_at <= :start
                ORDER BY h.changed_at DESC, h.id DESC LIMIT 1),
               (SELECT h.old_status FROM status_history h
                WHERE h.deployed_stream_id = ds.id AND h.changed_at > :start
                ORDER BY h.changed_at, h.id LIMIT 1),
               ds.status) AS status
    FROM deployed_stream ds
    JOIN reference_designator rd ON rd.id = ds.reference_designator_id
    JOIN expected_stream es ON es.id = ds.expected_stream_id
)"""

# Then its changes and the edges of the silences covering it inside the window, as points
# (t, kind, seq) in order. A silence starting before the window is counted from the window start.
_POINTS = """
silenced AS (
    SELECT st.sid, si.id AS seq,
           CASE WHEN si.starts_at <= :start THEN CAST(:start_s AS double precision) ELSE {starts} END AS t_on,
           CASE WHEN si.ends_at >= :stop THEN NULL ELSE {ends} END AS t_off
    FROM silence si
    JOIN streams st
      ON (st.refdes = si.refdes OR substr(st.refdes, 1, length(si.refdes) + 1) = si.refdes || '-')
     AND (si.method IS NULL OR si.method = st.method)
     AND (si.stream IS NULL OR si.stream = st.stream)
    WHERE si.starts_at < :stop AND si.ends_at > :start AND si.starts_at < si.ends_at
),
points AS (
    SELECT sid, CAST(:start_s AS double precision) AS t, 0 AS kind, 0 AS seq, status, 0 AS delta FROM streams
    UNION ALL
    SELECT h.deployed_stream_id, {changed}, 1, h.id, h.new_status, 0
    FROM status_history h WHERE h.changed_at > :start AND h.changed_at < :stop
    UNION ALL
    SELECT sid, t_on, 2, seq, NULL, 1 FROM silenced
    UNION ALL
    SELECT sid, t_off, 2, seq, NULL, -1 FROM silenced WHERE t_off IS NOT NULL
),
marked AS (
    SELECT sid, t, kind, seq, status,
           COUNT(status) OVER (PARTITION BY sid ORDER BY t, kind, seq ROWS UNBOUNDED PRECEDING) AS grp,
           SUM(delta) OVER (PARTITION BY sid ORDER BY t, kind, seq ROWS UNBOUNDED PRECEDING) AS depth
    FROM points
),
segments AS (
    SELECT sid, t, kind, seq,
           CASE WHEN depth > 0 THEN 'silenced'
                ELSE MAX(status) OVER (PARTITION BY sid, grp) END AS state
    FROM marked
),
timed AS (
    SELECT sid, t, kind, seq, state,
           LEAD(t, 1, CAST(:stop_s AS double precision))
               OVER (PARTITION BY sid ORDER BY t, kind, seq) - t AS seconds
    FROM segments
)
"""

# The same when no silence overlaps the window (the usual case): every point is a change of
# status, the state of its segment (one pass, one sort instead of three).
_PLAIN_POINTS = """
timed AS (
    SELECT sid, t, kind, seq, status AS state,
           LEAD(t, 1, CAST(:stop_s AS double precision))
               OVER (PARTITION BY sid ORDER BY t, kind, seq) - t AS seconds
    FROM (
        SELECT sid, CAST(:start_s AS double precision) AS t, 0 AS kind, 0 AS seq, status FROM streams
        UNION ALL
        SELECT h.deployed_stream_id, {changed}, 1, h.id, h.new_status
        FROM status_history h WHERE h.changed_at > :start AND h.changed_at < :stop
    ) AS points
)
"""
_ANY_SILENCE = text(
    "SELECT 1 FROM silence WHERE starts_at < :stop AND ends_at > :start AND starts_at < ends_at LIMIT 1"
).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("stop", type_=UTCDateTime()))

_STREAMS = """
WITH {points}
SELECT st.sid, st.refdes, st.method, st.stream, timed.state, SUM(timed.seconds)
FROM timed JOIN streams st ON st.sid = timed.sid
GROUP BY st.sid, st.refdes, st.method, st.stream, timed.state
"""

# An instrument's rollup changes only where one of its streams changes state: each stream
# point moves one stream out of its previous state and into its new one; running sums of
# those moves per instrument give how many of its streams are in each state at every point.
_INSTRUMENTS = """
WITH {points},
moves AS (
    SELECT st.rid, timed.t, timed.state,
           LAG(timed.state) OVER (PARTITION BY timed.sid ORDER BY timed.t, timed.kind, timed.seq) AS previous
    FROM timed JOIN streams st ON st.sid = timed.sid
),
steps AS (
    SELECT rid, t,
           SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'failed' THEN 1 ELSE 0 END) AS failed,
           SUM(CASE WHEN state = 'degraded' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'degraded' THEN 1 ELSE 0 END) AS degraded,
           SUM(CASE WHEN state = 'operational' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'operational' THEN 1 ELSE 0 END) AS operational,
           SUM(CASE WHEN state = 'silenced' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'silenced' THEN 1 ELSE 0 END) AS silenced
    FROM moves GROUP BY rid, t
),
counted AS (
    SELECT rid, t,
           SUM(failed) OVER w AS failed, SUM(degraded) OVER w AS degraded,
           SUM(operational) OVER w AS operational, SUM(silenced) OVER w AS silenced
    FROM steps
    WINDOW w AS (PARTITION BY rid ORDER BY t ROWS UNBOUNDED PRECEDING)
),
rolled AS (
    SELECT rid,
           CASE WHEN failed > 0 THEN 'failed' WHEN degraded > 0 THEN 'degraded'
                WHEN operational > 0 THEN 'operational' WHEN silenced > 0 THEN 'silenced'
                ELSE 'notTracked' END AS state,
           LEAD(t, 1, CAST(:stop_s AS double precision)) OVER (PARTITION BY rid ORDER BY t) - t AS seconds
    FROM counted
)
SELECT rd.id, rd.name, rolled.state, SUM(rolled.seconds)
FROM rolled JOIN reference_designator rd ON rd.id = rolled.rid
GROUP BY rd.id, rd.name, rolled.state
"""


def uptime(
    session: Session, start: datetime, stop: datetime, group: str, silences: bool | None = None
) -> list[dict[str, Any]]:
    """Seconds in each state and the uptime percentage per stream, instrument, node or site over
    [start, stop), ordered by name. The caller clamps ``stop`` to now and checks start < stop."""
    if group not in GROUPS:
        raise ValueError(f"group: {group!r} is not one of {', '.join(GROUPS)}")
    in_memory(session)
    if group == "stream":
        return _stream_rows(session, start, stop, silences)
    instruments = _instrument_rows(session, start, stop, silences)
    if group == "instrument":
        return instruments
    return _grouped(instruments, group)


def _statement(
    session: Session, template: str, start: datetime, stop: datetime, silences: bool | None = None
) -> tuple[TextClause, dict]:
    """The report's statement and parameters; ``silences``: whether a silence overlaps the window
    (None: ask the database). Without one, the plain points give the same segments."""
    epoch = _EPOCH["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    start, stop = as_utc(start), as_utc(stop)
    if silences is None:
        silences = session.execute(_ANY_SILENCE, {"start": start, "stop": stop}).first() is not None
    points = (_POINTS if silences else _PLAIN_POINTS).format(
        starts=epoch.format("si.starts_at"),
        ends=epoch.format("si.ends_at"),
        changed=epoch.format("h.changed_at"),
    )
    statement = text(template.format(points=_STREAMS_AT_START + "," + points)).bindparams(
        bindparam("start", type_=UTCDateTime()), bindparam("stop", type_=UTCDateTime())
    )
    return statement, {"start": start, "stop": stop, "start_s": start.timestamp(), "stop_s": stop.timestamp()}


def _stream_rows(
    session: Session, start: datetime, stop: datetime, silences: bool | None
) -> list[dict[str, Any]]:
    statement, params = _statement(session, _STREAMS, start, stop, silences)
    rows: dict[int, dict[str, Any]] = {}
    for sid, refdes, method, stream, state, seconds in session.execute(statement, params):
        row = rows.get(sid)
        if row is None:
            row = rows[sid] = {"id": sid, "refdes": refdes, "method": method, "stream": stream, **_zero()}
        row[state] += seconds or 0.0
    ordered = sorted(rows.values(), key=lambda r: (r["refdes"], r["method"], r["stream"]))
    return [_finish(row) for row in ordered]


def _instrument_rows(
    session: Session, start: datetime, stop: datetime, silences: bool | None
) -> list[dict[str, Any]]:
    statement, params = _statement(session, _INSTRUMENTS, start, stop, silences)
    rows: dict[int, dict[str, Any]] = {}
    for _rid, refdes, state, seconds in session.execute(statement, params):
        row = rows.get(_rid)
        if row is None:
            row = rows[_rid] = {"refdes": refdes, **_zero()}
        row[state] += seconds or 0.0
    return [_finish(row) for row in sorted(rows.values(), key=lambda r: r["refdes"])]


def _grouped(instruments: Iterable[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """Nodes (``SUBSITE-NODE``) or sites (``SUBSITE``): sums of their instruments' seconds."""
    parts = 2 if group == "node" else 1
    totals: dict[str, dict[str, Any]] = defaultdict(_zero)
    counts: dict[str, int] = defaultdict(int)
    for row in instruments:
        name = "-".join(row["refdes"].split("-", 2)[:parts])
        counts[name] += 1
        for state in STATES:
            totals[name][state] += row[state]
    return [_finish({group: name, "instruments": counts[name], **totals[name]}) for name in sorted(totals)]


def _zero() -> dict[str, Any]:
    return dict.fromkeys(STATES, 0.0)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Seconds rounded to the millisecond and the uptime percentage (None: no tracked time)."""
    for state in STATES:
        row[state] = round(row[state], 3)
    return {**row, "uptime_percent": uptime_percent(row)}


def uptime_percent(seconds: dict[str, float]) -> float | None:
    """operational / (operational + degraded + failed) in percent, to 0.01; None without tracked time."""
    tracked = seconds[OPERATIONAL] + seconds[DEGRADED] + seconds[FAILED]
    if tracked <= 0:
        return None
    return round(100.0 * seconds[OPERATIONAL] / tracked, 2)
