"""The coverage report's rows kept between data revisions (PostgreSQL), each recomputed only when
the coverage rows it sums changed.

The monitor's upkeep moves the data revision with every round, so the answers the API keeps by
revision are of no use to the first request after a round; yet a round rewrites the coverage of
the streams that moved only (this month, an open deployment): most rows of a report are what
they were.

A version of a coverage row is named by its id and its ``xmin``, the transaction that wrote it
("id:xmin"): an UPDATE writes a version with a new xmin, the upkeep's delete and insert a new id.
A kept row (a group: one instrument's or stream's month or deployment) records the versions it
was computed from. A request reads the versions of every coverage row in its window, and in the
same snapshot (REPEATABLE READ) recomputes exactly the groups that hold a version not recorded or
lost a recorded one. Every other kept row sums the very versions the snapshot holds: the answer
is what ``coverage_report`` computes in that snapshot, encoded as it encodes it, never older than
the request. (xmin is 32 bits: only a row updated in place — the monitor never does — by a
transaction whose number is that of the kept version's writer modulo 2**32 could pass for it.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import Function

from ooi_status.reports import KeptBySize, one_snapshot
from ooi_status.reports import coverage_report as report

#: A coverage row's version, as text: "id:xmin".
_VERSION: Function[str] = func.concat(literal_column("coverage.id"), ":", literal_column("coverage.xmin"))
#: Bytes a kept row costs beside its encoded text (group, positions), and each version it records.
_ROW_OVERHEAD, _VERSION_OVERHEAD = 400, 150
Group = tuple[Any, ...]
#: An encoder of report rows: one encoded row per row, in order.
Encode = Callable[[list[dict[str, Any]]], list[bytes]]
#: The body of the encoded rows in the report's order.
Join = Callable[[list[bytes]], bytes]


class KeptReport:
    """The encoded rows of one report (group, by, format, window start) in its order, the
    coverage row versions each was computed from, and the body they make. Used under ``lock``:
    one request at a time reads or updates it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.scanned = ""  # the versions read last, as read
        self.rows: dict[Group, bytes] = {}
        self.versions: dict[Group, str] = {}  # group -> its versions, space-separated
        self.owner: dict[str, Group] = {}  # version -> group
        self.parts: list[bytes] = []  # the encoded rows in the report's order
        self.index: dict[Group, int] = {}  # group -> its position in parts
        self.body: bytes | None = None
        self.size = 0

    def remove(self, group: Group) -> None:
        self.size -= len(self.rows.pop(group)) + _ROW_OVERHEAD
        versions = self.versions.pop(group).split(" ")
        for version in versions:
            del self.owner[version]
        self.size -= _VERSION_OVERHEAD * len(versions)

    def put(self, group: Group, encoded: bytes, versions: str) -> bool:
        """Keep a group's row; False when the group is new (the order is to be made again)."""
        known = group in self.rows
        if known:
            self.remove(group)
            self.parts[self.index[group]] = encoded
        self.rows[group] = encoded
        self.versions[group] = versions
        split = versions.split(" ")
        for version in split:
            self.owner[version] = group
        self.size += len(encoded) + _ROW_OVERHEAD + _VERSION_OVERHEAD * len(split)
        return known

    def build(self, fetched: list[tuple[Group, bytes, str]]) -> None:
        """Keep every row of a report (``clear``ed), as ``put`` each would, at once."""
        self.rows = {group: encoded for group, encoded, _ in fetched}
        self.versions = {group: versions for group, _, versions in fetched}
        self.owner = {version: group for group, _, versions in fetched for version in versions.split(" ")}
        self.size = sum(len(encoded) for _, encoded, _ in fetched) + _ROW_OVERHEAD * len(fetched)
        self.size += _VERSION_OVERHEAD * len(self.owner)
        self.reorder()

    def reorder(self) -> None:
        order = sorted(self.rows)
        self.parts = [self.rows[group] for group in order]
        self.index = {group: n for n, group in enumerate(order)}

    def changed(self) -> None:
        if self.body is not None:
            self.size -= len(self.body)
            self.body = None

    def joined(self, join: Join) -> bytes:
        if self.body is None:
            self.body = join(self.parts)
            self.size += len(self.body)
        return self.body


class KeptReports(KeptBySize[KeptReport]):
    """The kept reports of a process, by key; at most ``max_bytes`` in all (least recently used
    first out). A report larger than that alone is not kept."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, KeptReport)


def kept_body(
    session: Session,
    kept: KeptReport,
    query: tuple[str, str, datetime | None, datetime],
    encode: Encode,
    join: Join,
) -> bytes:
    """``join(encode(coverage_report(session, *query)))`` for a report by stream or instrument,
    from the kept rows brought to a snapshot taken now. Ends the session's transaction and reads
    in one of its own."""
    with kept.lock:
        one_snapshot(session)
        try:
            if not (kept.parts and _update(session, kept, query, encode)):
                kept.clear()
                kept.build(_fetch(session, query, None, encode))
            return kept.joined(join)
        except BaseException:
            kept.clear()  # half updated
            raise
        finally:
            session.rollback()


def _update(
    session: Session, kept: KeptReport, query: tuple[str, str, datetime | None, datetime], encode: Encode
) -> bool:
    """Bring ``kept`` to the snapshot: False when it is to be built afresh."""
    _, by, start, stop = query
    where = report.window_where(by, start, stop)
    scanned = session.scalar(select(func.string_agg(_VERSION, " ")).where(*where)) or ""
    if scanned == kept.scanned:
        return True
    current = set(scanned.split(" ")) if scanned else set()
    owner = kept.owner
    new = current - owner.keys()
    touched = {owner[v] for v in owner.keys() - current}
    if not new and not touched:
        kept.scanned = scanned  # the same versions, read in another order
        return True
    ids = [int(v.split(":", 1)[0]) for v in new]
    ids.extend(int(v.split(":", 1)[0]) for g in touched for v in kept.versions[g].split(" "))
    if len(ids) > len(current) // 2:
        return False  # as fast computed whole
    kept.changed()
    ordered = True
    for group, encoded, versions in _fetch(session, query, ids, encode):
        ordered = kept.put(group, encoded, versions) and ordered
        touched.discard(group)
    for gone in touched:
        kept.remove(gone)
    if len(owner) != len(current):
        return False  # cannot be, in one snapshot; built afresh if it were
    if touched or not ordered:
        kept.reorder()
    kept.scanned = scanned
    return True


def _fetch(
    session: Session, query: tuple[str, str, datetime | None, datetime], ids: list[int] | None, encode: Encode
) -> list[tuple[Group, bytes, str]]:
    """The report's rows (each with its group and the versions it sums) of every group, or of
    the groups holding one of the coverage rows ``ids``."""
    group, by, start, stop = query
    names = report.group_names(group)
    versions = _VERSION if group == "stream" else func.string_agg(_VERSION, " ")
    statement = report.report_query(session, group, by, ordered=False).add_columns(versions)
    statement = statement.where(*report.window_where(by, start, stop))
    if ids is not None:
        # Joined to the groups' keys (an index probe per group), not filtered by a semi join.
        c = report.COLUMNS
        # One array literal (parsed as a value, not as thousands of constants in the statement).
        array = cast(bindparam("ids", "{" + ",".join(map(str, ids)) + "}"), ARRAY(BigInteger))
        listed = select(func.unnest(array)).scalar_subquery()
        changed = select(*names, c.period).where(c.id.in_(listed)).distinct().cte("changed")
        statement = statement.join_from(c.id.table, changed, and_(*(c[k.name] == k for k in changed.c)))
    result = session.execute(statement).all()
    rows = report.report_rows(by, [n.name for n in names], [r[:-1] for r in result])
    keys = [n.name for n in names]
    return [
        ((*(row[k] for k in keys), row[by]), encoded, r[-1])
        for row, encoded, r in zip(rows, encode(rows), result, strict=True)
    ]
