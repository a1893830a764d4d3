"""The coverage report: the coverage table summed per stream, instrument or site, per month or
deployment (ooi_status.coverage defines each row; the monitor keeps the table up to date).

An instrument's seconds are the sums of its streams' (stream-time), a site's the sums of its
instruments'; ``present_percent`` = Present / (everything but Not Expected). Rows are ordered by
name, then month or deployment number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, func, select
from sqlalchemy.orm import Session

from ooi_status.coverage import DEPLOYMENT, MONTH, SECONDS, present_percent
from ooi_status.model.monitor import Coverage

GROUPS = ("stream", "instrument", "site")
BY = (MONTH, DEPLOYMENT)
_C = Coverage.__table__.c


def coverage_report(
    session: Session, group: str, by: str, start: datetime | None, stop: datetime
) -> list[dict[str, Any]]:
    """The months or deployments whose window overlaps [start, stop) (``start`` None: from the
    beginning); the month holding ``start`` is therefore included whole."""
    where = [_C.kind == by, _C.period_start < stop]
    if start is not None:
        where.append(_C.window_stop > start)
    text = _time_text(session.get_bind().dialect.name)
    if group == "stream":
        names: tuple[Column[Any], ...] = (_C.refdes, _C.method, _C.stream)
        query = select(
            *names, _C.period, text(_C.window_start), text(_C.window_stop), *(_C[c] for c in SECONDS)
        )
    else:
        names = (_C.refdes,)
        query = select(
            _C.refdes, _C.period, text(func.min(_C.window_start)), text(func.max(_C.window_stop)),
            *(func.sum(_C[c]) for c in SECONDS),
        ).group_by(_C.refdes, _C.period)  # fmt: skip
    rows = [_row(by, [n.name for n in names], values) for values in session.execute(query.where(*where))]
    if group == "site":
        rows = _sites(rows, by)
    key = "refdes" if group != "site" else "site"
    rows.sort(key=lambda r: (r[key], r.get("method", ""), r.get("stream", ""), r[by]))
    return rows


def _time_text(dialect: str) -> Callable[[Any], Any]:
    """A timestamp column as the API's text, UTC ``YYYY-MM-DD HH:MM:SS``, made by the database
    (tens of thousands of rows: no datetime object per value). SQLite stores that text already."""
    if dialect == "postgresql":
        return lambda column: func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
    return lambda column: func.substr(column, 1, 19)


def _row(by: str, names: list[str], values: Any) -> dict[str, Any]:
    keys = len(names)
    row: dict[str, Any] = dict(zip(names, values[:keys], strict=True))
    period, window_start, window_stop, *seconds = values[keys:]
    row[by] = int(period) if by == DEPLOYMENT else period
    row["start"], row["stop"] = window_start, window_stop
    row.update(zip(SECONDS, (float(s or 0.0) for s in seconds), strict=True))
    return _finish(row)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    for category in SECONDS:
        row[category] = round(row[category], 3)
    row["present_percent"] = present_percent(row)
    return row


def _sites(instruments: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Sums over a site's instruments per month (or deployment number)."""
    totals: dict[tuple[str, Any], dict[str, Any]] = {}
    counts: dict[tuple[str, Any], int] = defaultdict(int)
    for row in instruments:
        key = (row["refdes"].split("-", 1)[0], row[by])
        counts[key] += 1
        found = totals.get(key)
        if found is None:
            totals[key] = {"site": key[0], by: key[1], "start": row["start"], "stop": row["stop"],
                           **{c: row[c] for c in SECONDS}}  # fmt: skip
            continue
        found["start"], found["stop"] = min(found["start"], row["start"]), max(found["stop"], row["stop"])
        for category in SECONDS:
            found[category] += row[category]
    return [_finish({**total, "instruments": counts[key]}) for key, total in totals.items()]
