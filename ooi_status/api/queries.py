"""What the API reads from the monitor schema: set-based, a fixed number of queries per request.

A list of deployed streams is three queries whatever its length: one row per stream (with
its instrument's name), the few expected streams those rows refer to, and the silences in
force. Rows are plain
column tuples, not ORM objects, so 12,000 of them load in milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from ooi_status import port_store
from ooi_status.api.errors import NotFound
from ooi_status.api.validation import Page, StreamFilter
from ooi_status.diagnosis import DIAGNOSED, diagnose
from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory
from ooi_status.model.types import TimestampText
from ooi_status.silence_store import load_silences
from ooi_status.silences import SilenceRule, by_prefix, candidates, in_force, silence_for
from ooi_status.status import rollup
from ooi_status.times import utcnow

DS, ES, RD = DeployedStream, ExpectedStream, ReferenceDesignator
# Lists are read through the tables, not the mapped classes: plain rows, no ORM loading step.
_DS, _ES, _RD = DS.__table__.c, ES.__table__.c, RD.__table__.c


@dataclass(frozen=True, slots=True)
class StreamList:
    """Deployed-stream rows, the expected streams they refer to, by id, and the silences in
    force on them, by stream id."""

    rows: Sequence[Row[Any]]
    expected: dict[int, ExpectedStream]
    silences: Mapping[int, SilenceRule] = field(default_factory=dict)

    def only(self, rows: Sequence[Row[Any]]) -> StreamList:
        """The same listing restricted to ``rows``."""
        return StreamList(rows, self.expected, self.silences)


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument: its rollup status over the streams listed."""

    refdes: str
    overall: str
    streams: StreamList
    diagnosis: str | None = None  # where the data stops (ooi_status.diagnosis), set by diagnosed()

    @property
    def silenced(self) -> SilenceRule | None:
        """Silenced when every stream listed is: the silence among theirs that ends first
        (when the instrument stops being wholly silenced)."""
        rows, silences = self.streams.rows, self.streams.silences
        rules = [rule for rule in (silences.get(row.id) for row in rows) if rule is not None]
        if not rows or len(rules) < len(rows):
            return None
        return min(rules, key=lambda rule: (rule.ends_at, rule.id))


@dataclass(frozen=True, slots=True)
class HistoryPage:
    stream_id: int
    entries: Sequence[StatusHistory]
    total: int
    limit: int
    offset: int


#: The columns of a StreamList row, in the order serializers.deployed_stream unpacks them.
STREAM_COLUMNS = (
    "id", "refdes", "refdes_id", "expected_id", "expected_rate", "warn_interval", "fail_interval", "status",
    "status_time", "last_data_time", "measured_rate", "flapping", "acknowledged_by", "acknowledged_at",
    "acknowledged_note", "disabled_by", "disabled_at", "disabled_reason", "disabled_until",
)  # fmt: skip


def _stream_select() -> Select[Any]:
    """The StreamList row of each deployed stream (STREAM_COLUMNS), with its instrument's name."""
    return (
        select(
            _DS.id,
            _RD.name.label("refdes"),
            _DS.reference_designator_id.label("refdes_id"),
            _DS.expected_stream_id.label("expected_id"),
            _DS.expected_rate,
            _DS.warn_interval,
            _DS.fail_interval,
            _DS.status,
            TimestampText(_DS.status_time).label("status_time"),
            TimestampText(_DS.last_data_time).label("last_data_time"),
            _DS.measured_rate,
            _DS.flapping_since.is_not(None).label("flapping"),
            _DS.acknowledged_by,
            TimestampText(_DS.acknowledged_at).label("acknowledged_at"),
            _DS.acknowledged_note,
            _DS.disabled_by,
            TimestampText(_DS.disabled_at).label("disabled_at"),
            _DS.disabled_reason,
            TimestampText(_DS.disabled_until).label("disabled_until"),
        )
        .join(RD.__table__, _RD.id == _DS.reference_designator_id)
        .join(ES.__table__, _ES.id == _DS.expected_stream_id)
    )


def _filtered(query: Select[Any], where: StreamFilter, *, with_status: bool = True) -> Select[Any]:
    if where.refdes:
        query = query.where(_RD.name.icontains(where.refdes, autoescape=True))
    if where.method:
        query = query.where(_ES.method.icontains(where.method, autoescape=True))
    if where.stream:
        query = query.where(_ES.name.icontains(where.stream, autoescape=True))
    if with_status and where.status:
        query = query.where(_DS.status == where.status)
    return query


def _with_expected(session: Session, rows: Sequence[Row[Any]], now: datetime | None = None) -> StreamList:
    ids = {row.expected_id for row in rows}
    expected = session.scalars(select(ES).where(ES.id.in_(ids))).all() if ids else []
    by_id = {item.id: item for item in expected}
    return StreamList(rows, by_id, _silences(session, rows, by_id, now or utcnow()))


def _silences(
    session: Session, rows: Sequence[Row[Any]], expected: dict[int, ExpectedStream], now: datetime
) -> dict[int, SilenceRule]:
    """The silence in force on each row at ``now`` (one query; none when nothing is silenced).

    Rules are looked up by the row's reference-designator heads, once per instrument, so the
    cost grows with the rows and the silences of each instrument, not rows × silences."""
    rules = load_silences(session, now, now + timedelta(microseconds=1)) if rows else []
    if not rules:
        return {}
    grouped = by_prefix(rule for rule in rules if in_force(rule, now))
    per_refdes: dict[str, list[SilenceRule]] = {}
    found = {}
    for row in rows:
        mine = per_refdes.get(row.refdes)
        if mine is None:
            mine = per_refdes[row.refdes] = candidates(grouped, row.refdes)
        if not mine:
            continue
        exp = expected[row.expected_id]
        rule = silence_for(mine, row.refdes, exp.method, exp.name, now)
        if rule is not None:
            found[row.id] = rule
    return found


def _silenced_only(listing: StreamList, silenced: bool | None) -> StreamList:
    if silenced is None:
        return listing
    return listing.only([row for row in listing.rows if (row.id in listing.silences) == silenced])


def streams(session: Session, where: StreamFilter) -> StreamList:
    """Deployed streams matching the filter, by id."""
    rows = session.execute(_filtered(_stream_select(), where).order_by(_DS.id)).all()
    return _silenced_only(_with_expected(session, rows), where.silenced)


def stream_page(session: Session, where: StreamFilter, page: Page) -> tuple[StreamList, int]:
    """One page of the deployed streams matching the filter, by id, and how many match in all."""
    query = _filtered(_stream_select(), where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(_DS.id).limit(page.limit).offset(page.offset)).all()
    return _with_expected(session, rows), total


def stream(session: Session, stream_id: int) -> StreamList:
    """One deployed stream (a list of one); NotFound when there is none with this id."""
    rows = session.execute(_stream_select().where(_DS.id == stream_id)).all()
    if not rows:
        raise NotFound(f"no deployed stream with id {stream_id}; list them with GET /stream")
    return _with_expected(session, rows)


def _group(listing: StreamList) -> dict[str, StreamList]:
    groups: dict[str, list[Row[Any]]] = {}
    for row in listing.rows:
        groups.setdefault(row.refdes, []).append(row)
    return {refdes: listing.only(rows) for refdes, rows in sorted(groups.items())}


def instruments(session: Session, where: StreamFilter) -> list[Instrument]:
    """Instruments with the streams matching refdes/method/stream; ``status`` and ``silenced``
    select by the instrument's rollup and silence.

    The rollup is over the streams listed, so ``overall`` always agrees with ``status``.
    """
    rows = session.execute(_filtered(_stream_select(), where, with_status=False).order_by(_DS.id)).all()
    found = [
        Instrument(refdes, rollup(row.status for row in group.rows), group)
        for refdes, group in _group(_with_expected(session, rows)).items()
    ]
    return [
        item
        for item in found
        if (where.status is None or item.overall == where.status)
        and (where.silenced is None or (item.silenced is not None) == where.silenced)
    ]


def _refdes_name(session: Session, refdes_id: int) -> str:
    name = session.scalar(select(RD.name).where(RD.id == refdes_id))
    if name is None:
        raise NotFound(f"no instrument with id {refdes_id}; list them with GET /instrument")
    return name


def instrument(session: Session, refdes_id: int) -> Instrument:
    """One instrument and all its streams; NotFound for an unknown id."""
    name = _refdes_name(session, refdes_id)
    rows = session.execute(
        _stream_select().where(_DS.reference_designator_id == refdes_id).order_by(_DS.id)
    ).all()
    return Instrument(name, rollup(row.status for row in rows), _with_expected(session, rows))


def diagnosed(session: Session, items: list[Instrument], now: datetime, window: float) -> list[Instrument]:
    """The instruments with their diagnosis: port summaries read once, for the degraded and failed."""
    names = [item.refdes for item in items if item.overall in DIAGNOSED]
    summaries = port_store.port_summaries(session, names, now, window) if names else {}
    found = []
    for item in items:
        diagnosis = diagnose(item.overall, summaries.get(item.refdes), now)
        found.append(item if diagnosis == item.diagnosis else replace(item, diagnosis=diagnosis))
    return found


def refdes_id(session: Session, refdes: str) -> int:
    """The id of an instrument named ``refdes`` (or given by its numeric id); NotFound otherwise."""
    if refdes.isascii() and refdes.isdigit():
        candidate = int(refdes)
        found = session.scalar(select(RD.id).where(RD.id == candidate)) if candidate < 2**31 else None
    else:
        found = session.scalar(select(RD.id).where(RD.name == refdes))
    if found is None:
        raise NotFound(f"no instrument {refdes!r}; list them with GET /instrument")
    return found


def expected_streams(session: Session, method: str | None, name: str | None) -> Sequence[ExpectedStream]:
    """Expected streams by id; ``method`` and ``name`` match as on /stream (case-insensitive substrings)."""
    query = select(ES).order_by(ES.id)
    if method:
        query = query.where(ES.method.icontains(method, autoescape=True))
    if name:
        query = query.where(ES.name.icontains(name, autoescape=True))
    return session.scalars(query).all()


def expected_stream(session: Session, expected_id: int) -> ExpectedStream:
    found = session.get(ES, expected_id)
    if found is None:
        raise NotFound(f"no expected stream with id {expected_id}; list them with GET /expected")
    return found


def history(session: Session, stream_id: int, limit: int, offset: int) -> HistoryPage:
    """A page of one stream's status changes, newest first."""
    if session.scalar(select(DS.id).where(DS.id == stream_id)) is None:
        raise NotFound(f"no deployed stream with id {stream_id}; list them with GET /stream")
    mine = StatusHistory.deployed_stream_id == stream_id
    total = session.scalar(select(func.count()).select_from(StatusHistory).where(mine)) or 0
    entries = session.scalars(
        select(StatusHistory)
        .where(mine)
        .order_by(StatusHistory.changed_at.desc(), StatusHistory.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return HistoryPage(stream_id, entries, total, limit, offset)
