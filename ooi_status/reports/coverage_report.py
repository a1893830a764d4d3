"""The coverage report: the coverage table summed per stream, instrument or site, per month or
deployment (ooi_status.coverage defines each row; the monitor keeps the table up to date).

An instrument's seconds are the sums of its streams' (stream-time), a site's the sums of its
instruments'; ``present_percent`` = Present / (everything but Not Expected). Rows are ordered by
name, then month or deployment number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Integer, Select, cast, func, select
from sqlalchemy.orm import Session

from ooi_status.coverage import DEPLOYMENT, MONTH, SECONDS, present_percent
from ooi_status.model.monitor import Coverage
from ooi_status.model.types import TimestampText
from ooi_status.reports import in_memory

GROUPS = ("stream", "instrument", "site")
#: Longer than any calendar month.
MONTH_BOUND = timedelta(days=32)
BY = (MONTH, DEPLOYMENT)
COLUMNS = Coverage.__table__.c


def coverage_report(
    session: Session, group: str, by: str, start: datetime | None, stop: datetime
) -> list[dict[str, Any]]:
    """The months or deployments whose window overlaps [start, stop) (``start`` None: from the
    beginning); the month holding ``start`` is therefore included whole."""
    in_memory(session)
    query = report_query(session, group, by, ordered=group != "site").where(*window_where(by, start, stop))
    names = [n.name for n in group_names(group)]
    rows = report_rows(by, names, session.execute(query).all())
    if group == "site":
        rows = _sites(rows, by)
        rows.sort(key=lambda r: (r["site"], r[by]))
    return rows


def window_where(by: str, start: datetime | None, stop: datetime) -> list[Any]:
    """The coverage rows of the periods (of kind ``by``) whose window overlaps [start, stop)."""
    where = [COLUMNS.kind == by, COLUMNS.period_start < stop]
    if start is not None:
        where.append(COLUMNS.window_stop > start)
        if by == MONTH:
            # Implied (a month's window lies within it), and what the (kind, period_start) index needs.
            where.append(COLUMNS.period_start > start - MONTH_BOUND)
    return where


def group_names(group: str) -> tuple[Column[Any], ...]:
    """The columns naming a row of the report by ``group`` (a site's rows are its instruments')."""
    if group == "stream":
        return (COLUMNS.refdes, COLUMNS.method, COLUMNS.stream)
    return (COLUMNS.refdes,)


def report_query(session: Session, group: str, by: str, ordered: bool) -> Select[Any]:
    """The statement of the report's rows (``report_rows`` reads them), without its window;
    ``ordered``: as Python orders them (code points; deployments by number)."""
    c, stamp = COLUMNS, TimestampText
    names = group_names(group)
    if group == "stream":
        query = select(
            *names, c.period, stamp(c.window_start), stamp(c.window_stop), *(c[s] for s in SECONDS)
        )
    else:
        query = select(
            c.refdes, c.period, stamp(func.min(c.window_start)), stamp(func.max(c.window_stop)),
            *(func.sum(c[s]) for s in SECONDS),
        ).group_by(c.refdes, c.period)  # fmt: skip
    if not ordered:
        return query
    code_points = _code_points(session.get_bind().dialect.name)
    return query.order_by(
        *(code_points(name) for name in names),
        cast(c.period, Integer) if by == DEPLOYMENT else code_points(c.period),
    )


def last_period_start(session: Session, by: str, stop: datetime) -> datetime | None:
    """What of ``stop`` the report's rows depend on: the latest start of a period (of kind ``by``)
    before it. Any stop after that start and not after the next one gives the same rows."""
    return session.scalar(
        select(func.max(COLUMNS.period_start)).where(COLUMNS.kind == by, COLUMNS.period_start < stop)
    )


def _code_points(dialect: str) -> Callable[[Any], Any]:
    """A text column ordered by code points, as Python orders str: PostgreSQL's "C" collation
    (bytes of UTF-8, in code point order); SQLite's default (BINARY) already is."""
    if dialect == "postgresql":
        return lambda column: column.collate("C")
    return lambda column: column


def report_rows(by: str, names: list[str], result: Sequence[Any]) -> list[dict[str, Any]]:
    """The answer's rows: names, period, window, seconds rounded to the millisecond and the
    present percentage (as ``_finish`` makes them, in one pass: the fleet has tens of thousands)."""
    width = len(names)
    deployment = by == DEPLOYMENT
    rows = []
    for values in result:
        row: dict[str, Any] = dict(zip(names, values[:width], strict=True))
        period, window_start, window_stop, present, sparse1, sparse2, sparse3, missing, not_expected = values[
            width:
        ]
        row[by] = int(period) if deployment else period
        row["start"], row["stop"] = window_start, window_stop
        # round(float(x or 0.0), 3), without the rounding where x is zero (most sparse and not
        # expected seconds: a None, 0 or -0.0 gives 0.0 either way)
        row["present"] = present = round(float(present), 3) if present else 0.0
        row["sparse1"] = sparse1 = round(float(sparse1), 3) if sparse1 else 0.0
        row["sparse2"] = sparse2 = round(float(sparse2), 3) if sparse2 else 0.0
        row["sparse3"] = sparse3 = round(float(sparse3), 3) if sparse3 else 0.0
        row["missing"] = missing = round(float(missing), 3) if missing else 0.0
        row["not_expected"] = round(float(not_expected), 3) if not_expected else 0.0
        # present_percent(row), its sum in EXPECTED's order
        expected = present + missing + sparse1 + sparse2 + sparse3
        row["present_percent"] = None if expected <= 0 else round(100.0 * present / expected, 2)
        rows.append(row)
    return rows


_rows = report_rows  # its earlier name


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
