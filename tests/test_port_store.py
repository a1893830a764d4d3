"""Port counts in the monitor schema: idempotent storing, summaries, series and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ooi_status import port_store
from ooi_status.config import load_settings
from ooi_status.diagnosis import PortSummary
from ooi_status.model.monitor import PortAgent, PortCount, PortCountHourly
from ooi_status.monitor.port_stats import upkeep
from ooi_status.port_counts import PortCountRecord

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
A, B = "CE01ISSM-MFD35-04-ADCPTM000", "RS01SLBS-LJ01A-12-CTDBPO101"


def count(refdes: str, end: datetime, bytes_in: int, elapsed: float = 60.0) -> PortCountRecord:
    return PortCountRecord(refdes, end, elapsed, bytes_in, 0, 0, 1)


def store(engine, records) -> None:
    with Session(engine) as session, session.begin():
        port_store.store_counts(session, records)


def rows(engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_storing_a_batch_twice_changes_nothing(monitor_db):
    batch = [count(A, NOW - timedelta(minutes=m), 600 * m) for m in range(5)]
    batch.append(batch[0])  # a duplicate inside the batch too
    store(monitor_db.engine, batch)
    store(monitor_db.engine, list(reversed(batch)))
    assert rows(monitor_db.engine, PortCount) == 5
    with Session(monitor_db.engine) as session:
        agent = session.get(PortAgent, A)
    assert agent.first_time == NOW - timedelta(minutes=5)  # start of the earliest count
    assert agent.last_time == NOW
    assert agent.last_nonzero_time == NOW - timedelta(minutes=1)  # the count ending now had 0 bytes


def test_summaries_sum_the_window_and_date_the_last_bytes(monitor_db):
    store(monitor_db.engine, [
        count(A, NOW - timedelta(seconds=700), 99_999),  # before the 600 s window
        count(A, NOW - timedelta(seconds=300), 24_000),
        count(A, NOW, 25_440),  # the window's end is included
        count(A, NOW + timedelta(seconds=60), 77),  # after now: not in the window
        count(B, NOW - timedelta(hours=2), 500),
        count(B, NOW - timedelta(seconds=100), 0),
    ])  # fmt: skip
    with Session(monitor_db.engine) as session:
        every = port_store.port_summaries(session, None, NOW, 600)
        named = port_store.port_summaries(session, [B, "GP05MOAS-GL523-04-CTDGVM000"], NOW, 600)
        assert port_store.port_summaries(session, [], NOW, 600) == {}
    assert every[A] == PortSummary(49_440, 120.0, NOW + timedelta(seconds=60), NOW - timedelta(seconds=760))
    assert every[B] == PortSummary(0, 60.0, NOW - timedelta(hours=2), NOW - timedelta(hours=2, seconds=60))
    assert named == {B: every[B]}


def test_retention_rolls_up_exactly_and_prunes(monitor_db):
    settings = load_settings(environ={}, overrides={"PORT_COUNT_UPKEEP_BATCH": 7})
    old = NOW - timedelta(days=9)
    hour = old.replace(minute=0, second=0)
    records = [count(A, hour + timedelta(minutes=m), 1000 + m) for m in range(0, 120, 5)]  # two hours
    records += [count(A, NOW - timedelta(days=401), 5), count(A, NOW - timedelta(hours=1), 42)]
    store(monitor_db.engine, records)
    with Session(monitor_db.engine) as session:
        before = port_store.port_series(session, A, NOW - timedelta(days=10), NOW)
    moved, pruned = upkeep(monitor_db.engine, settings, NOW)
    assert (moved, pruned) == (25, 1)  # 24 + the 401-day-old count, rolled up then pruned
    assert rows(monitor_db.engine, PortCount) == 1  # only the recent one is raw
    with Session(monitor_db.engine) as session:
        after = port_store.port_series(session, A, NOW - timedelta(days=10), NOW)
        hourly = session.scalars(select(PortCountHourly).order_by(PortCountHourly.hour)).all()
    assert [(h.hour, h.counts, h.seconds) for h in hourly] == [
        (hour, 12, 720.0),
        (hour + timedelta(hours=1), 12, 720.0),
    ]
    assert sum(p.bytes for p in after) == sum(p.bytes for p in before)  # no byte lost or counted twice
    assert [p.time for p in after] == [hour, hour + timedelta(hours=1), NOW - timedelta(hours=1)]
    assert after[0].rate == round(sum(1000 + m for m in range(0, 60, 5)) / 720, 2)
    assert upkeep(monitor_db.engine, settings, NOW) == (0, 0)  # nothing left to do


def test_rejections_accumulate(monitor_db):
    for counts in ({"not_json": 2}, {"not_json": 1, "wrong_type": 4}):
        with Session(monitor_db.engine) as session, session.begin():
            port_store.record_rejections(session, counts, NOW)
    with Session(monitor_db.engine) as session:
        assert port_store.rejection_counts(session) == {"not_json": 3, "wrong_type": 4}
