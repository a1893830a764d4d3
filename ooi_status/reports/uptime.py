"""Uptime from the status history: time in each status per stream, instrument, node and site.

Streams: from the cumulative seconds each history row carries (``cum_operational``,
``cum_degraded``, ``cum_failed``, ``cum_not_tracked``: the seconds its stream spent in each
status from its first history row up to the row's ``changed_at``). A stream's seconds in a
status up to a moment t are C(t) = the cumulative of its latest row at or before t, plus
t − that row's time if its new status is that status (before its first row: the first row's
cumulative minus the time to it if its old status is that status); its seconds in the window are
C(stop) − C(start): two index probes a stream, whatever the number of changes in the window.
The rows are filled by the migration that added the columns, by the monitor's check step after
each round and by ``fill_cumulative`` (from each stream's earliest unfilled row on: a row
written out of time order changes the rows after it). A stream with an unfilled row, or covered
by a silence overlapping the window, is answered by the window-function statement below instead.

The two give the same numbers, not only to the millisecond: epoch seconds of the timestamps are
doubles on one grid (2^-22 s from 2004 to 2038, 2^-23 before) and every sum and difference
either computation makes of them is a multiple of that grid below 2^31 s, so exact whatever the
order of the additions (a property test compares them for generated histories, windows,
silences and rows written out of order). One difference is left on SQLite, whose ``julianday``
keeps milliseconds while the stored text keeps microseconds: two changes of one stream less
than a millisecond apart may be ordered differently by the two computations (the monitor's
rounds are seconds apart; the property test uses whole milliseconds there).

Instruments, and the streams not answered from the cumulative seconds: in SQL over
``status_history`` with window functions (one statement for the streams, one for the
instruments), the same text on SQLite and PostgreSQL but for the expression turning a timestamp
into epoch seconds. When no silence overlaps the window (one indexed look first) the statement
leaves the silence edges out: every point is then a change of status and one window pass times
the segments (the general statement needs three sorts of every point; both answer the same, a
property test checks it).

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
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import CursorResult, Result, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, TextClause

from ooi_status.model.types import UTCDateTime
from ooi_status.reports import in_memory, without_gc
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

EPOCH = {
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
    JOIN expected_stream es ON es.id = ds.expected_stream_id{where}
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
    FROM status_history h WHERE h.changed_at > :start AND h.changed_at < :stop{only}
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
        FROM status_history h WHERE h.changed_at > :start AND h.changed_at < :stop{only}
    ) AS points
)
"""
_ANY_SILENCE = text(
    "SELECT 1 FROM silence WHERE starts_at < :stop AND ends_at > :start AND starts_at < ends_at LIMIT 1"
).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("stop", type_=UTCDateTime()))

# --- the cumulative seconds: O(streams), not O(changes) -----------------------------------------
#
# Each history row carries the seconds its stream spent in each status from its first history
# row up to the row's changed_at (fill_cumulative), so a stream's seconds in a status up to a
# moment t are C(t) = the cumulative of its latest row before t + (t − that row's time) if the
# row's new status is that status; before its first row, the first row's cumulative − (its time −
# t) if its old status is. Seconds in the window = C(stop) − C(start): two index probes a stream.
# Streams covered by a silence overlapping the window, and streams with a row not filled yet, are
# the slow ones: the window-function statement answers them.

CUMULATIVE = {
    OPERATIONAL: "cum_operational",
    DEGRADED: "cum_degraded",
    FAILED: "cum_failed",
    NOT_TRACKED: "cum_not_tracked",
}
#: The cumulative columns, in the order of STATES.
COLUMNS = tuple(CUMULATIVE.values())
_COLUMNS = ", ".join(COLUMNS)

SLOW = """
slow AS (
    SELECT ds.id AS sid
    FROM silence si
    JOIN reference_designator rd
      ON rd.name = si.refdes OR substr(rd.name, 1, length(si.refdes) + 1) = si.refdes || '-'
    JOIN deployed_stream ds ON ds.reference_designator_id = rd.id
    JOIN expected_stream es
      ON es.id = ds.expected_stream_id
     AND (si.method IS NULL OR si.method = es.method)
     AND (si.stream IS NULL OR si.stream = es.name)
    WHERE si.starts_at < :stop AND si.ends_at > :start AND si.starts_at < si.ends_at
    UNION
    SELECT deployed_stream_id FROM status_history WHERE cum_operational IS NULL
)"""
#: More slow streams than this (a bulk load not filled yet, say): every stream by the window statement.
_MAX_SLOW = 1000

_FAST_STREAMS = """
    SELECT ds.id AS sid, rd.name AS refdes, es.method AS method, es.name AS stream, ds.status AS status,
           CASE WHEN ds.id IN (SELECT sid FROM slow) THEN 1 ELSE 0 END AS slow
    FROM deployed_stream ds
    JOIN reference_designator rd ON rd.id = ds.reference_designator_id
    JOIN expected_stream es ON es.id = ds.expected_stream_id"""
_LATEST = """
    WHERE h.deployed_stream_id = {of}.sid AND h.changed_at {op} :{edge}
    ORDER BY h.changed_at DESC, h.id DESC LIMIT 1"""
_FIRST = """
    WHERE h.deployed_stream_id = e.sid
    ORDER BY h.changed_at, h.id LIMIT 1"""
# The rows of each stream's edges: its latest row at or before the start (a), its latest row
# before the stop (b) and, when it has none at or before the start, its first row (f). Ordered by
# name as Python orders the names (code points: PostgreSQL's "C" collation, SQLite's default).
# PostgreSQL: LATERAL probes; SQLite (no LATERAL): the rows' ids, then the rows by id.
# A stream's edge row from status_latest when its latest row is before the edge (no probe), else
# the probe of the history.
_KEPT = "l.changed_at {op} :{edge}"


def _edge_join(name: str, op: str, edge: str) -> str:
    """PostgreSQL: the LATERAL join of one edge's row (``name``: a or b), kept or probed."""
    return f"""
LEFT JOIN LATERAL (
    SELECT {{kept}} WHERE {_KEPT.format(op=op, edge=edge)}
    UNION ALL
    (SELECT {{row}} FROM status_history h {_LATEST.format(of="e", op=op, edge=edge)})
    LIMIT 1
) AS {name} ON true"""


_EDGES = {
    "postgresql": f"""
WITH {{slow}}
SELECT e.sid, e.refdes, e.method, e.stream, e.slow, {{seconds}}
FROM ({_FAST_STREAMS}) AS e
LEFT JOIN status_latest l ON l.deployed_stream_id = e.sid{_edge_join("a", "<=", "start")}{
        _edge_join("b", "<", "stop")
    }
LEFT JOIN LATERAL (
    SELECT {{row}} FROM status_history h {_FIRST.replace("WHERE", "WHERE a.id IS NULL AND")}
) AS f ON true
ORDER BY e.refdes COLLATE "C", e.method COLLATE "C", e.stream COLLATE "C"
""",
    "sqlite": f"""
WITH {{slow}},
e AS MATERIALIZED (
    SELECT s.*,
           COALESCE(
               (SELECT l.history_id FROM status_latest l
                WHERE l.deployed_stream_id = s.sid AND {_KEPT.format(op="<=", edge="start")}),
               (SELECT h.id FROM status_history h {_LATEST.format(of="s", op="<=", edge="start")})) AS a_id,
           COALESCE(
               (SELECT l.history_id FROM status_latest l
                WHERE l.deployed_stream_id = s.sid AND {_KEPT.format(op="<", edge="stop")}),
               (SELECT h.id FROM status_history h {_LATEST.format(of="s", op="<", edge="stop")})) AS b_id
    FROM ({_FAST_STREAMS}) AS s
),
ef AS MATERIALIZED (
    SELECT e.*,
           CASE WHEN e.a_id IS NULL THEN (SELECT h.id FROM status_history h {_FIRST}) END AS f_id
    FROM e
)
SELECT e.sid, e.refdes, e.method, e.stream, e.slow, {{seconds}}
FROM ef AS e
LEFT JOIN (SELECT {{row}} FROM status_history h) AS a ON a.id = e.a_id
LEFT JOIN (SELECT {{row}} FROM status_history h) AS b ON b.id = e.b_id
LEFT JOIN (SELECT {{row}} FROM status_history h) AS f ON f.id = e.f_id
ORDER BY e.refdes, e.method, e.stream
""",
}
_UNFILLED_STREAMS = text(
    "SELECT DISTINCT deployed_stream_id FROM status_history WHERE cum_operational IS NULL"
)
# The latest row of each of these streams (filled: the streams just filled), into status_latest.
_KEEP_LATEST = text(f"""
INSERT INTO status_latest (deployed_stream_id, history_id, old_status, new_status, changed_at, {_COLUMNS})
SELECT h.deployed_stream_id, h.id, h.old_status, h.new_status, h.changed_at, {_COLUMNS}
FROM deployed_stream ds
JOIN status_history h ON h.id = (
    SELECT x.id FROM status_history x WHERE x.deployed_stream_id = ds.id
    ORDER BY x.changed_at DESC, x.id DESC LIMIT 1
)
WHERE ds.id IN :streams
ON CONFLICT (deployed_stream_id) DO UPDATE SET
    history_id = excluded.history_id, old_status = excluded.old_status, new_status = excluded.new_status,
    changed_at = excluded.changed_at, {", ".join(f"{c} = excluded.{c}" for c in CUMULATIVE.values())}
""").bindparams(bindparam("streams", expanding=True))
#: Streams per statement keeping status_latest (SQLite's bound-parameter limit).
_LATEST_PAGE = 1000

# For each stream with unfilled rows, from its earliest unfilled row on: every row's cumulative
# is its base row's (the stream's latest row before that time; none: 0) plus the seconds of the
# segments between, each in the new status of the row starting it.
_FILL = """
UPDATE status_history
SET cum_operational = summed.operational, cum_degraded = summed.degraded,
    cum_failed = summed.failed, cum_not_tracked = summed.not_tracked
FROM (
    WITH todo AS (
        SELECT deployed_stream_id AS sid, MIN(changed_at) AS first_at
        FROM status_history WHERE cum_operational IS NULL GROUP BY deployed_stream_id
    ),
    based AS (
        SELECT todo.sid, todo.first_at,
               (SELECT h.id FROM status_history h
                WHERE h.deployed_stream_id = todo.sid AND h.changed_at < todo.first_at
                ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) AS base_id
        FROM todo
    ),
    span AS (
        SELECT h.id, h.deployed_stream_id AS sid, h.changed_at, h.new_status,
               CASE WHEN h.id = b.base_id THEN 1 ELSE 0 END AS is_base,
               h.cum_operational, h.cum_degraded, h.cum_failed, h.cum_not_tracked,
               COALESCE(
                   LEAD({t}) OVER (PARTITION BY h.deployed_stream_id ORDER BY h.changed_at, h.id) - {t}, 0
               ) AS seconds
        FROM status_history h JOIN based b ON b.sid = h.deployed_stream_id
        WHERE h.changed_at >= b.first_at OR h.id = b.base_id
    )
    SELECT id, is_base,
           {sums}
    FROM span
    WINDOW s AS (PARTITION BY sid),
           r AS (PARTITION BY sid ORDER BY changed_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) AS summed
WHERE status_history.id = summed.id AND summed.is_base = 0
"""
_FILL_SUMS = ",\n           ".join(
    f"COALESCE(MAX(CASE WHEN is_base = 1 THEN {column} END) OVER s, 0)"
    f" + COALESCE(SUM(CASE WHEN new_status = '{state}' THEN seconds ELSE 0 END) OVER r, 0) AS {column[4:]}"
    for state, column in CUMULATIVE.items()
)

_STREAMS = """
WITH {points}
SELECT st.sid, st.refdes, st.method, st.stream, timed.state, SUM(timed.seconds)
FROM timed JOIN streams st ON st.sid = timed.sid
GROUP BY st.sid, st.refdes, st.method, st.stream, timed.state
"""

# An instrument's rollup changes only where one of its streams changes state: each stream
# point moves one stream out of its previous state and into its new one; running sums of those
# moves per instrument, in time order with the points at the same time taken together (RANGE:
# a row's frame ends after its last peer), give how many of its streams are in each state after
# every point. Points at one time all get the counts after the last of them, so the same state,
# and only the last of them a duration (LEAD over equal times is 0): summed per state, what one
# row per distinct time would give, without grouping the points first.
_INSTRUMENTS = """
WITH {points},
moves AS (
    SELECT st.rid, timed.t, timed.state,
           LAG(timed.state) OVER (PARTITION BY timed.sid ORDER BY timed.t, timed.kind, timed.seq) AS previous
    FROM timed JOIN streams st ON st.sid = timed.sid
),
counted AS (
    SELECT rid, t,
           SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'failed' THEN 1 ELSE 0 END) OVER w AS failed,
           SUM(CASE WHEN state = 'degraded' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'degraded' THEN 1 ELSE 0 END) OVER w AS degraded,
           SUM(CASE WHEN state = 'operational' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'operational' THEN 1 ELSE 0 END) OVER w AS operational,
           SUM(CASE WHEN state = 'silenced' THEN 1 ELSE 0 END
               - CASE WHEN previous = 'silenced' THEN 1 ELSE 0 END) OVER w AS silenced
    FROM moves
    WINDOW w AS (PARTITION BY rid ORDER BY t RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
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
    session: Session,
    start: datetime,
    stop: datetime,
    group: str,
    silences: bool | None = None,
    cumulative: bool = True,
) -> list[dict[str, Any]]:
    """Seconds in each state and the uptime percentage per stream, instrument, node or site over
    [start, stop), ordered by name. The caller clamps ``stop`` to now and checks start < stop.

    ``cumulative``: streams answered from the cumulative seconds where they can be (False: every
    stream by the window-function statement, as the property tests compare)."""
    if group not in GROUPS:
        raise ValueError(f"group: {group!r} is not one of {', '.join(GROUPS)}")
    in_memory(session)
    if group == "stream":
        return _stream_rows(session, start, stop, silences, cumulative)
    instruments = _instrument_rows(session, start, stop, silences)
    if group == "instrument":
        return instruments
    return _grouped(instruments, group)


def _statement(
    session: Session,
    template: str,
    start: datetime,
    stop: datetime,
    silences: bool | None = None,
    only: Sequence[int] | None = None,
) -> tuple[TextClause, dict]:
    """The report's statement and parameters; ``silences``: whether a silence overlaps the window
    (None: ask the database). Without one, the plain points give the same segments.
    ``only``: the streams of these ids alone (None: every stream)."""
    epoch = _epoch(session)
    start, stop = as_utc(start), as_utc(stop)
    if silences is None:
        silences = session.execute(_ANY_SILENCE, {"start": start, "stop": stop}).first() is not None
    points = (_POINTS if silences else _PLAIN_POINTS).format(
        starts=epoch.format("si.starts_at"),
        ends=epoch.format("si.ends_at"),
        changed=epoch.format("h.changed_at"),
        only="" if only is None else " AND h.deployed_stream_id IN (SELECT sid FROM streams)",
    )
    streams = _STREAMS_AT_START.format(where="" if only is None else "\n    WHERE ds.id IN :only")
    binds, params = _window_parameters(start, stop)
    if only is not None:
        binds.append(bindparam("only", expanding=True))
        params["only"] = list(only)
    statement = text(template.format(points=streams + "," + points)).bindparams(*binds)
    return statement, params


def _dialect(session: Session) -> str:
    """The statements' dialect: "postgresql", else "sqlite"."""
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def _epoch(session: Session) -> str:
    return EPOCH[_dialect(session)]


def _stream_rows(
    session: Session, start: datetime, stop: datetime, silences: bool | None, cumulative: bool
) -> list[dict[str, Any]]:
    if not cumulative:
        return with_slow_rows(session, [], None, start, stop, silences)
    # One statement answers the streams it can and names the others (one snapshot: each stream is
    # answered once even if a silence or a history row is written meanwhile).
    statement, params = _cumulative_statement(session, start, stop)
    slow: list[int] = []
    finished = _fast_rows(session.execute(statement, params), slow)
    if not slow:
        return finished  # in order of name already
    return with_slow_rows(session, finished, slow, start, stop, silences)


def with_slow_rows(
    session: Session,
    finished: list[dict[str, Any]],
    slow: list[int] | None,
    start: datetime,
    stop: datetime,
    silences: bool | None = None,
) -> list[dict[str, Any]]:
    """The rows ``finished`` and those of the streams ``slow`` (None: every stream) by the window
    statement, in order of name. More slow streams than _MAX_SLOW: every stream by the window
    statement."""
    if slow is not None and len(slow) > _MAX_SLOW:
        finished, slow = [], None
    statement, params = _statement(session, _STREAMS, start, stop, silences, slow)
    rows: dict[int, dict[str, Any]] = {}
    for sid, refdes, method, stream, state, seconds in session.execute(statement, params):
        row = rows.get(sid)
        if row is None:
            row = rows[sid] = {"id": sid, "refdes": refdes, "method": method, "stream": stream, **_zero()}
        row[state] += seconds or 0.0
    finished = finished + [_finish(row) for row in rows.values()]
    return sorted(finished, key=_by_name)


def _by_name(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["refdes"], row["method"], row["stream"]


def _fast_rows(result: Result[Any], slow: list[int]) -> list[dict[str, Any]]:
    """The rows of the cumulative statement; the ids of the slow streams (not answered) go to
    ``slow``."""
    with without_gc():  # tens of thousands of objects made at once (reports.without_gc)
        fetched: Any = result.all()
        if not fetched:
            return []
        sids, refdes, methods, streams, flags, *columns = zip(*fetched, strict=True)
        if any(flags):
            slow += [sid for sid, flag in zip(sids, flags, strict=True) if flag]
            answered = [row for row in fetched if not row[4]]
            if not answered:
                return []
            sids, refdes, methods, streams, flags, *columns = zip(*answered, strict=True)
        seconds = np.array(columns, dtype=np.float64).reshape(len(columns), len(sids))
        return finished_rows(sids, refdes, methods, streams, seconds)


def finished_rows(
    sids: Sequence[int],
    refdes: Sequence[str],
    methods: Sequence[str],
    streams: Sequence[str],
    seconds: np.ndarray,
) -> list[dict[str, Any]]:
    """_finish of streams' rows without silenced time, as columns (``seconds``: one row of the
    array per status but silenced, one column per stream): 12,000 of them per report; a last-bit
    negative or -0.0 is 0."""
    if not len(sids):
        return []
    with without_gc():  # tens of thousands of objects made at once (reports.without_gc)
        seconds = round_ms(np.where(seconds > 0, seconds, 0.0))
        operational, degraded, failed, not_tracked = seconds
        # uptime_percent of each row: the same operations in the same order, then Python's round.
        tracked = operational + degraded + failed
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = round_hundredths(np.where(tracked > 0, 100.0 * operational / tracked, 0.0))
        percents: Any = shares.astype(object)
        percents[~(tracked > 0)] = None
        percents = percents.tolist()
        return [
            {
                "id": sid,
                "refdes": r,
                "method": m,
                "stream": st,
                OPERATIONAL: op,
                DEGRADED: deg,
                FAILED: fail,
                NOT_TRACKED: nt,
                SILENCED: 0.0,
                "uptime_percent": percent,
            }  # fmt: skip
            for sid, r, m, st, op, deg, fail, nt, percent in zip(
                sids,
                refdes,
                methods,
                streams,
                *(column.tolist() for column in seconds),
                percents,
                strict=True,
            )
        ]


#: 2^22: the epoch seconds of 2004–2038 and every sum and difference of them the statements make
#: are multiples of 2^-22 (module docstring).
_GRID = float(2**22)


def round_ms(values: np.ndarray) -> np.ndarray:
    """``round(x, 3)`` of every value, as Python rounds (the correctly rounded decimal, ties to
    even, then the double nearest to it). Values all on the 2^-22 grid (x = m / 2^22, m an
    integer below 2^62 / 1000: m * 1000 fits in 64 bits) are rounded in integers: the
    thousandths k = m * 1000 / 2^22 to the nearest, ties to even, and k / 1000 (one correctly
    rounded division: that same double); any other value is left to Python's round, one by one."""
    scaled = values * _GRID  # exact: a power of two
    if values.size == 0 or (np.all(scaled == np.floor(scaled)) and np.all(np.abs(scaled) < 2**62 / 1000)):
        thousandths, rest = np.divmod(scaled.astype(np.int64) * 1000, 2**22)
        half = 2**21
        thousandths += (rest > half) | ((rest == half) & (thousandths % 2 == 1))
        return thousandths / 1000.0
    flat = [round(value, 3) for value in values.ravel().tolist()]
    return np.array(flat, dtype=np.float64).reshape(values.shape)


def round_hundredths(values: np.ndarray) -> np.ndarray:
    """``round(x, 2)`` of every value, as Python rounds (the correctly rounded decimal, ties to
    even, then the double nearest to it). For |x| < 2^20, x * 100 is within 2^-25 of its exact
    value, so its nearest integer k is the correctly rounded number of hundredths unless x * 100
    is that close to a half: those values are left to Python's round, one by one, and k / 100 is
    that double (one correctly rounded division). Any other value: Python's round."""
    if not np.all(np.abs(values) < 2**20):
        return np.array([round(value, 2) for value in values.tolist()], dtype=np.float64)
    scaled = values * 100.0
    rounded = np.rint(scaled) / 100.0
    near = np.flatnonzero(np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 2**-20)
    rounded[near] = [round(value, 2) for value in values[near].tolist()]
    return rounded


def _cumulative_statement(session: Session, start: datetime, stop: datetime) -> tuple[TextClause, dict]:
    """Seconds in each status (STATES but silenced) of every stream: C(stop) − C(start); the
    streams of ``SLOW`` flagged (their seconds are not read)."""
    epoch = _epoch(session)
    start, stop = as_utc(start), as_utc(stop)

    def at(edge: str, row: str, state: str, column: str) -> str:
        """C(edge) in ``state`` from the edge's row (a or b), else from the first row f."""
        moment = f"CAST(:{edge}_s AS double precision)"
        return (
            f"CASE WHEN {row}.id IS NOT NULL THEN {row}.{column} + CASE WHEN {row}.new_status = '{state}'"
            f" THEN {moment} - {row}.t ELSE 0 END"
            f" ELSE f.{column} - CASE WHEN f.old_status = '{state}' THEN f.t - {moment} ELSE 0 END END"
        )

    window = "CAST(:stop_s AS double precision) - CAST(:start_s AS double precision)"
    seconds = [
        f"CASE WHEN a.id IS NULL AND f.id IS NULL"  # no history: its current status throughout
        f" THEN CASE WHEN e.status = '{state}' THEN {window} ELSE 0 END"
        f" ELSE ({at('stop', 'b', state, column)}) - ({at('start', 'a', state, column)}) END"
        for state, column in CUMULATIVE.items()
    ]
    row = f"h.id, h.old_status, h.new_status, {epoch.format('h.changed_at')} AS t, " + ", ".join(
        f"h.{column}" for column in CUMULATIVE.values()
    )
    kept = (
        f"l.history_id AS id, l.old_status, l.new_status, {epoch.format('l.changed_at')} AS t, "
        + ", ".join(f"l.{column}" for column in CUMULATIVE.values())
    )
    sql = _EDGES[_dialect(session)].format(slow=SLOW, seconds=",\n       ".join(seconds), row=row, kept=kept)
    binds, params = _window_parameters(start, stop)
    return text(sql).bindparams(*binds), params


def _window_parameters(start: datetime, stop: datetime) -> tuple[list[BindParameter[Any]], dict[str, Any]]:
    """The window's bind parameters of the report's statements: the edges as timestamps
    (``start``, ``stop``) and as epoch seconds (``start_s``, ``stop_s``)."""
    binds = [bindparam("start", type_=UTCDateTime()), bindparam("stop", type_=UTCDateTime())]
    params = {"start": start, "stop": stop, "start_s": start.timestamp(), "stop_s": stop.timestamp()}
    return binds, params


def fill_cumulative(session: Session) -> int:
    """Fill the cumulative seconds of the history rows that have none (the round's new rows, rows
    written by hand or by a bulk load), and recompute the rows after them of the same stream: a
    row written out of time order changes every later one; then those streams' status_latest
    rows. One probe of a partial index when there is nothing to fill. The number of rows written."""
    streams = session.execute(_UNFILLED_STREAMS).scalars().all()
    if not streams:
        return 0
    statement = text(_FILL.format(t=_epoch(session).format("h.changed_at"), sums=_FILL_SUMS))
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    for page in range(0, len(streams), _LATEST_PAGE):
        session.execute(_KEEP_LATEST, {"streams": streams[page : page + _LATEST_PAGE]})
    return result.rowcount or 0


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
