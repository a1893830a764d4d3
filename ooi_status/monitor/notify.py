"""The notification steps of the monitor: a round's messages for people, and daily digests.

``notify_round(session, now, settings)`` runs after each check round has committed, in its
own transaction: it reads the status history since the last notified moment (a watermark
in notify_state), so a notification step that fails or a monitor that restarts loses
nothing: the next step picks the changes up. In one transaction it updates which streams
are flapping, queues one message per concerned subscription in the outbox, and moves the
watermark; the outbox then delivers the messages at least once.

What a round's items are (ooi_status.notify.messages turns them into text):
- each stream's net change since the watermark (first old status → last new status), unless
  the stream is flapping or was silenced when it changed; with NOTIFY_HOLD, the change of its
  held status (ooi_status.notify.hold): a status is told once it has held that long;
- a stream that stops flapping (stable for FLAP_WINDOW): where it settled;
- a stream still failed or degraded when a silence over it ended (and no other silence
  covers it): its status now.
Every item of a degraded or failed instrument with port-agent statistics carries the
instrument's diagnosis (ooi_status.diagnosis) as its note: the message shows it once, under
the instrument's line.

``queue_digests(session, now, settings)`` queues the daily digest of every subscription
whose DIGEST_HOUR has come since its last digest, and records the moment on the
subscription in the same transaction: once a day, whatever the restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.config import Settings
from ooi_status.diagnosis import DIAGNOSED, diagnose
from ooi_status.model.monitor import (
    DeployedStream,
    ExpectedStream,
    NotifyState,
    ReferenceDesignator,
    StatusHistory,
    Subscription,
)
from ooi_status.monitor.digest_facts import digest_facts
from ooi_status.notify.digest import digest_due, digest_message
from ooi_status.notify.flapping import is_flapping
from ooi_status.notify.hold import held_status
from ooi_status.notify.messages import CHANGE, SETTLED, STILL, Audience, Item, Layout, Message, round_message
from ooi_status.notify.subscriptions import audiences, queue_message
from ooi_status.port_store import port_summaries
from ooi_status.silence_store import load_silences
from ooi_status.silences import SilenceRule, silence_for
from ooi_status.status import rollup

log = logging.getLogger(__name__)

WATERMARK = "round"
_DS, _ES, _RD, _H = (
    t.__table__.c for t in (DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory)
)
_CHUNK = 500
_DS_TABLE = DeployedStream.__table__
_BAD = ("failed", "degraded")


@dataclass
class RoundPlan:
    """What a notification step would write: flapping switches, messages, the new watermark."""

    start: datetime
    now: datetime
    items: list[Item] = field(default_factory=list)
    flapping: list[tuple[int, datetime | None]] = field(default_factory=list)  # (stream id, flapping_since)
    messages: list[tuple[Audience, Message]] = field(default_factory=list)


def layout(settings: Settings) -> Layout:
    return Layout(settings.NOTIFY_GROUP_MIN, settings.PUBLIC_URL)


def watermark(session: Session) -> datetime | None:
    return session.scalar(select(NotifyState.at).where(NotifyState.name == WATERMARK))


def plan_round(session: Session, now: datetime, settings: Settings) -> RoundPlan:
    """Read what the notification step at ``now`` would send (no writes)."""
    start = watermark(session) or now - timedelta(seconds=settings.CHECK_INTERVAL)
    plan = RoundPlan(start, now)
    if start >= now:
        return plan
    hold = timedelta(seconds=settings.NOTIFY_HOLD)
    history = _history(session, start, now, hold)
    flapping_now = set(session.scalars(select(_DS.id).where(_DS.flapping_since.is_not(None))))
    streams = _streams(session, set(history) | flapping_now)
    flapping = _flapping(session, streams, now, settings, plan)
    rules = load_silences(session, start - hold, now + timedelta(microseconds=1))
    plan.items = _changes(history, streams, flapping, rules, start, now, hold)
    plan.items += [
        _settled(streams[sid], now) for sid, since in plan.flapping
        if since is None and silence_for(rules, *_names(streams[sid]), now) is None
    ]  # fmt: skip
    reported = {(i.refdes, i.method, i.stream) for i in plan.items}
    plan.items += _still_bad(session, rules, start, now, flapping, reported)
    if plan.items:
        diagnoses = instrument_diagnoses(
            session, {item.refdes for item in plan.items}, now, settings.RATE_WINDOW
        )
        plan.items = [replace(item, note=diagnoses.get(item.refdes, item.note)) for item in plan.items]
        shape = layout(settings)
        for who, _row in audiences(session, ("immediate", "both")):
            message = round_message(plan.items, who, now, shape)
            if message is not None:
                plan.messages.append((who, message))
    return plan


_EARLIER_PAGE = 50


def _history(session: Session, start: datetime, now: datetime, hold: timedelta) -> dict[int, list[Any]]:
    """The status changes of every stream that changed in (start - hold, now], in time order,
    reaching back far enough to know its held status at ``start`` (ooi_status.notify.hold)."""
    columns = (_H.id, _H.deployed_stream_id, _H.old_status, _H.new_status, _H.changed_at, _H.elapsed)
    found: dict[int, list[Any]] = {}
    query = (
        select(*columns)
        .where(_H.changed_at > start - hold, _H.changed_at <= now)
        .order_by(_H.changed_at, _H.id)
    )
    for row in session.execute(query):
        found.setdefault(row.deployed_stream_id, []).append(row)
    if not hold:
        return found  # the status at start is the first change's old status
    # Each stream's latest change before them, read for all of them at once: it holds the status
    # at start unless it did not last the hold; only then are a stream's changes read further back.
    ordered = sorted(found)
    for at in range(0, len(ordered), _CHUNK):
        for row in session.execute(
            select(*columns).where(_H.id.in_(_latest_ids(ordered[at : at + _CHUNK], start - hold)))
        ):
            found[row.deployed_stream_id].insert(0, row)
    for sid, rows in found.items():
        while held_status(rows, start, hold)[1] is None:
            first = rows[0]
            earlier = session.execute(
                select(*columns)
                .where(_H.deployed_stream_id == sid)
                .where(or_(_H.changed_at < first.changed_at,
                           and_(_H.changed_at == first.changed_at, _H.id < first.id)))
                .order_by(_H.changed_at.desc(), _H.id.desc())
                .limit(_EARLIER_PAGE)
            ).all()  # fmt: skip
            if not earlier:
                break  # the stream's whole history: before it, the first old status
            rows[:0] = reversed(earlier)
    return found


def _latest_ids(streams: list[int], edge: datetime) -> Any:
    """The id of each stream's latest change at or before ``edge`` (a subquery)."""
    earlier = StatusHistory.__table__.alias("earlier")
    latest = (
        select(earlier.c.id)
        .where(earlier.c.deployed_stream_id == _DS.id, earlier.c.changed_at <= edge)
        .order_by(earlier.c.changed_at.desc(), earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(latest).select_from(_DS_TABLE).where(_DS.id.in_(streams))


def notify_round(session: Session, now: datetime, settings: Settings) -> RoundPlan:
    """Plan and write the notification step at ``now`` in the caller's transaction."""
    plan = plan_round(session, now, settings)
    if plan.flapping:
        statement = update(_DS_TABLE).where(_DS.id == bindparam("sid"))
        session.execute(
            statement.values(flapping_since=bindparam("since")),
            [{"sid": sid, "since": since} for sid, since in plan.flapping],
        )
        revision.bump(session)  # "flapping" on the listed streams changed
    for who, message in plan.messages:
        queue_message(session, who, message, now)
    state = session.get(NotifyState, WATERMARK)
    if state is None:
        session.add(NotifyState(name=WATERMARK, at=now))
    elif state.at < now:
        state.at = now
    if plan.items or plan.flapping:
        log.info(
            "notifications: %d item(s), %d message(s) queued, %d stream(s) started or stopped flapping",
            len(plan.items), len(plan.messages), len(plan.flapping),
        )  # fmt: skip
    return plan


# --- reading -------------------------------------------------------------------------------------


def instrument_diagnoses(session: Session, refdes: set[str], now: datetime, window: float) -> dict[str, str]:
    """The port-agent diagnosis of each instrument named that has one: from its streams' rollup
    status (all of them, not only those with news) and its port summary; set-based."""
    statuses: dict[str, list[str]] = {}
    for start in range(0, len(refdes), _CHUNK):
        chunk = sorted(refdes)[start : start + _CHUNK]
        rows = session.execute(
            select(_RD.name, _DS.status)
            .select_from(DeployedStream.__table__.join(ReferenceDesignator.__table__))
            .where(_RD.name.in_(chunk))
        )
        for name, status in rows:
            statuses.setdefault(name, []).append(status)
    overall = {name: rollup(found) for name, found in statuses.items()}
    bad = [name for name, status in overall.items() if status in DIAGNOSED]
    summaries = port_summaries(session, bad, now, window) if bad else {}
    found = {name: diagnose(overall[name], summaries.get(name), now) for name in bad}
    return {name: text for name, text in found.items() if text}


def _stream_select() -> Any:
    return (
        select(
            _DS.id,
            _RD.name,
            _ES.method,
            _ES.name.label("stream"),
            _DS.status,
            _DS.status_time,
            _DS.last_data_time,
            _DS.flapping_since,
        )  # fmt: skip
        .join(ReferenceDesignator.__table__, _RD.id == _DS.reference_designator_id)
        .join(ExpectedStream.__table__, _ES.id == _DS.expected_stream_id)
    )


def _streams(session: Session, ids: Iterable[int]) -> dict[int, Row[Any]]:
    found: dict[int, Row[Any]] = {}
    ordered = sorted(ids)
    for at in range(0, len(ordered), _CHUNK):
        chunk = ordered[at : at + _CHUNK]
        found.update((row.id, row) for row in session.execute(_stream_select().where(_DS.id.in_(chunk))))
    return found


def _names(row: Row[Any]) -> tuple[str, str, str]:
    return row.name, row.method, row.stream


def _flapping(
    session: Session, streams: dict[int, Row[Any]], now: datetime, settings: Settings, plan: RoundPlan
) -> set[int]:
    """The streams flapping at ``now``; switches recorded in ``plan.flapping``."""
    window = timedelta(seconds=settings.FLAP_WINDOW)
    counts: dict[int, int] = {}
    ordered = sorted(streams)
    for at in range(0, len(ordered), _CHUNK):
        query = (
            select(_H.deployed_stream_id, func.count())
            .where(_H.deployed_stream_id.in_(ordered[at : at + _CHUNK]), _H.changed_at > now - window)
            .group_by(_H.deployed_stream_id)
        )
        counts.update((sid, count) for sid, count in session.execute(query))
    flapping = set()
    for sid, row in streams.items():
        was = row.flapping_since is not None
        now_flapping = is_flapping(
            was, counts.get(sid, 0), row.status_time, now, settings.FLAP_CHANGES, window
        )
        if now_flapping:
            flapping.add(sid)
        if now_flapping != was:
            plan.flapping.append((sid, now if now_flapping else None))
    return flapping


def _age(now: datetime, last: datetime | None) -> timedelta | None:
    return None if last is None else now - last


def _changes(
    history: dict[int, list[Any]],
    streams: dict[int, Row[Any]],
    flapping: set[int],
    rules: list[SilenceRule],
    start: datetime,
    now: datetime,
    hold: timedelta,
) -> list[Item]:
    """Each stream's net change from its held status at ``start`` to its held status at ``now``
    (with no hold: first old status in the window to last new), unless it is flapping or was
    silenced when it changed."""
    items = []
    for sid, rows in history.items():
        row = streams.get(sid)
        if row is None or sid in flapping:
            continue
        old, _ = held_status(rows, start, hold)
        new, change = held_status(rows, now, hold)
        if old == new or change is None:
            continue
        if silence_for(rules, *_names(row), change.changed_at) is not None:
            continue
        age = None if change.elapsed is None else timedelta(seconds=change.elapsed)
        items.append(Item(*_names(row), old=old, new=new, kind=CHANGE, data_age=age))
    return items


def _settled(row: Row[Any], now: datetime) -> Item:
    return Item(*_names(row), old=row.status, new=row.status, kind=SETTLED,
                data_age=_age(now, row.last_data_time))  # fmt: skip


def _still_bad(
    session: Session,
    rules: list[SilenceRule],
    start: datetime,
    now: datetime,
    flapping: set[int],
    reported: set[tuple[str, str, str]],
) -> list[Item]:
    """Streams still failed or degraded under a silence that ended in (start, now]."""
    ended = [rule for rule in rules if start < rule.ends_at <= now]
    if not ended:
        return []
    covered = or_(*(_covered_by(rule) for rule in ended))
    rows = session.execute(_stream_select().where(_DS.status.in_(_BAD), covered).order_by(_RD.name, _DS.id))
    items = []
    for row in rows:
        names = _names(row)
        if row.id in flapping or names in reported or silence_for(rules, *names, now) is not None:
            continue
        items.append(Item(*names, old=row.status, new=row.status, kind=STILL,
                          data_age=_age(now, row.last_data_time), since=row.status_time))  # fmt: skip
    return items


def _covered_by(rule: SilenceRule) -> Any:
    conditions = [or_(_RD.name == rule.refdes, _RD.name.startswith(rule.refdes + "-", autoescape=True))]
    if rule.method is not None:
        conditions.append(_ES.method == rule.method)
    if rule.stream is not None:
        conditions.append(_ES.name == rule.stream)
    return and_(*conditions)


# --- digests -------------------------------------------------------------------------------------


def due_digests(session: Session, now: datetime, settings: Settings) -> list[tuple[Audience, Subscription]]:
    return [
        (who, row) for who, row in audiences(session, ("digest", "both"))
        if digest_due(row.last_digest_at, row.created_at, now, settings.DIGEST_HOUR)
    ]  # fmt: skip


def queue_digests(session: Session, now: datetime, settings: Settings) -> int:
    """Queue the digests due at ``now`` in the caller's transaction; how many."""
    due = due_digests(session, now, settings)
    if not due:
        return 0
    facts = digest_facts(session, now)
    for who, row in due:
        queue_message(session, who, digest_message(facts, who), now)
        row.last_digest_at = now
    log.info("notifications: %d daily digest(s) queued", len(due))
    return len(due)
