"""The uptime report by stream from the rows a process keeps (PostgreSQL) is, byte for byte, the
report computed whole in the same state: after every kind of write to the history, the streams,
their names and the silences, with the window moving minute by minute, back, and far ahead."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson
import pytest
from api.factories import deployed, expected, history
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream, ReferenceDesignator, Silence, StatusHistory, StatusLatest
from ooi_status.reports import uptime_kept
from ooi_status.reports.uptime import STATES, fill_cumulative, uptime
from ooi_status.reports.uptime_kept import KeptUptime, KeptUptimes, kept_stream_rows

OP, DEG, FAIL, NT = "operational", "degraded", "failed", "notTracked"
WINDOW = timedelta(hours=10)
REFDES = ("CE01ISSM-MFD35-04-ADCPTM000", "CE01ISSM-MFD37-03-CTDBPC000", "RS01SBPS-PC01A-4A-CTDPFA103")
H = StatusHistory.__table__


@pytest.fixture
def engine(monitor_db, now: datetime) -> Engine:  # type: ignore[no-untyped-def]
    """Six streams of three instruments, with changes around the window [now - 10 h, now) and
    rows exactly at its edges; one stream without history."""
    if monitor_db.backend != "postgresql":
        pytest.skip("row versions (xmin): PostgreSQL only; on SQLite the report is computed whole")
    with Session(monitor_db.engine) as session, session.begin():
        sample, echo = expected(session, "ctdbp_no_sample"), expected(session, "echo_sounding")
        for n, refdes in enumerate(REFDES):
            for stream in (sample, echo):
                found = deployed(session, refdes, stream, OP)
                hours = [-30 + 7 * n, -10, -6.5 + n, -2 + n / 3, 0]
                statuses = [NT, OP, FAIL, DEG, OP, NT]
                changes = zip(statuses, statuses[1:], hours, strict=False)
                history(session, found, [(old, new, now + timedelta(hours=h)) for old, new, h in changes])
        deployed(session, "CE09OSSM-RID26-07-NUTNRB000", sample, DEG)  # no history
        fill_cumulative(session)
    return monitor_db.engine


def _same(engine: Engine, kept: KeptUptime, start: datetime, stop: datetime) -> list[dict]:
    """The kept rows, after checking they encode as the rows computed whole."""
    with Session(engine) as session:
        rows = kept_stream_rows(session, kept, start, stop)
    with Session(engine) as session:
        whole = uptime(session, start, stop, "stream")
    assert orjson.dumps(rows) == orjson.dumps(whole)
    return rows


def _stream(session: Session, refdes: str = REFDES[0], n: int = 0) -> int:
    found = select(DeployedStream.id).join(DeployedStream.reference_designator)
    return session.scalars(found.where(ReferenceDesignator.name == refdes).order_by(DeployedStream.id)).all()[
        n
    ]


def _row(session: Session, sid: int, at: datetime, old: str = OP, new: str = FAIL, **values: float) -> None:
    session.execute(
        insert(H).values(deployed_stream_id=sid, old_status=old, new_status=new, changed_at=at, **values)
    )


Write = Callable[[Session, datetime], None]


def _round(session: Session, at: datetime) -> None:
    """A check round: a change of two streams at ``at``, filled in its transaction."""
    _row(session, _stream(session), at, OP, DEG)
    _row(session, _stream(session, REFDES[1], 1), at, DEG, OP)
    fill_cumulative(session)


def _unfilled_before_the_start(session: Session, stop: datetime) -> None:
    _row(session, _stream(session, REFDES[1]), stop - WINDOW - timedelta(hours=2), OP, NT)


def _given_cumulative_seconds(session: Session, stop: datetime) -> None:
    """A row before the start written with its cumulative seconds (not filled, nor in status_latest)."""
    cumulative = {
        f"cum_{s}": 3600.0 * n for n, s in enumerate(("operational", "degraded", "failed", "not_tracked"))
    }
    # After the stream's latest row before the start: its start edge from now on.
    _row(session, _stream(session, REFDES[2]), stop - WINDOW - timedelta(minutes=1), FAIL, OP, **cumulative)


def _latest_row_deleted(session: Session, stop: datetime) -> None:
    sid = _stream(session, REFDES[2], 1)
    latest = session.scalar(select(StatusLatest.history_id).where(StatusLatest.deployed_stream_id == sid))
    session.execute(delete(H).where(H.c.id == latest))


def _new_stream(session: Session, stop: datetime) -> None:
    count = session.scalar(select(func.count()).select_from(DeployedStream))
    deployed(session, "CE09OSSM-RID26-07-NUTNRB000", expected(session, f"nutnr_a_sample_{count}"), FAIL)


def _status_without_history(session: Session, stop: datetime) -> None:
    session.execute(
        update(DeployedStream).where(~DeployedStream.id.in_(select(H.c.deployed_stream_id))).values(status=OP)
    )


def _first_rows_of_a_stream(session: Session, stop: datetime) -> None:
    sid = session.scalar(select(func.max(DeployedStream.id)))
    _row(session, sid, stop - timedelta(hours=3), NT, OP)
    _row(session, sid, stop - timedelta(minutes=1), OP, FAIL)
    fill_cumulative(session)


def _stream_deleted(session: Session, stop: datetime) -> None:
    session.execute(delete(DeployedStream).where(DeployedStream.id == _stream(session, REFDES[1], 1)))


def _silence(session: Session, stop: datetime) -> None:
    session.add(
        Silence(
            refdes=REFDES[0][:14], starts_at=stop - timedelta(hours=5), ends_at=stop + timedelta(hours=1),
            reason="maintenance", created_by="ops", created_at=stop - WINDOW,
        )
    )  # fmt: skip


def _renamed(session: Session, stop: datetime) -> None:
    session.execute(
        update(ReferenceDesignator)
        .where(ReferenceDesignator.name == REFDES[2])
        .values(name="RS01SBPS-PC01A-4A-X")
    )


def _moved(session: Session, stop: datetime) -> None:
    """To an instrument of another name (the instruments' rows unchanged)."""
    other = session.scalar(select(DeployedStream.reference_designator_id).order_by(DeployedStream.id.desc()))
    sid = _stream(session, REFDES[0], 1)
    session.execute(
        update(DeployedStream).where(DeployedStream.id == sid).values(reference_designator_id=other)
    )


def _every_stream(session: Session, stop: datetime) -> None:
    """A round changing every stream (more than half: probed whole)."""
    for sid in session.scalars(select(DeployedStream.id)):
        _row(session, sid, stop + timedelta(seconds=20), OP, DEG)
    fill_cumulative(session)


def _rounds_at(offset: timedelta) -> Write:
    return lambda session, stop: _round(session, stop + offset)


WRITES: list[tuple[str, Write]] = [
    ("nothing", lambda session, stop: None),
    ("a round after the stop (this minute)", _rounds_at(timedelta(seconds=30))),
    ("a round at the stop", _round),
    ("a round just before the stop", _rounds_at(-timedelta(microseconds=1))),
    ("a round at the next window's start", _rounds_at(timedelta(minutes=1) - WINDOW)),
    ("a row before the start, not filled", _unfilled_before_the_start),
    ("the fill", lambda session, stop: fill_cumulative(session) and None),
    ("a row written with its cumulative seconds", _given_cumulative_seconds),
    ("a stream's latest row deleted", _latest_row_deleted),
    ("a new stream", _new_stream),
    ("the status of streams without history", _status_without_history),
    ("a stream's first rows", _first_rows_of_a_stream),
    ("a stream deleted", _stream_deleted),
    ("a silence", _silence),
    ("an instrument renamed", _renamed),
    ("a stream moved to another instrument", _moved),
    ("every stream changed", _every_stream),
]  # fmt: skip


def test_after_each_write_the_kept_rows_are_the_whole_report(engine: Engine, now: datetime) -> None:
    kept = KeptUptime()
    stop = now
    for name, write in WRITES:
        with Session(engine) as session, session.begin():
            write(session, stop)
        _same(engine, kept, stop - WINDOW, stop)
        stop += timedelta(minutes=1)  # the next minute
        rows = _same(engine, kept, stop - WINDOW, stop)
        assert rows, name
    for back in (timedelta(minutes=1), timedelta(hours=3)):  # the window moved back
        _same(engine, kept, stop - WINDOW - back, stop - back)
    for ahead in (timedelta(hours=1), timedelta(hours=12), timedelta(days=3)):  # past rows, past all
        _same(engine, kept, stop - WINDOW + ahead, stop + ahead)


def test_only_the_streams_whose_history_changed_are_probed(
    engine: Engine, now: datetime, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The start edge, the row after it and the status_latest row (the stop edge is probed for the
    streams whose latest row is at or after the stop: here the rows at ``now``)."""
    probed: list[tuple[str, list[int]]] = []
    probe = uptime_kept._probe

    def counted(session: Session, name: str, sids, moment: datetime):  # type: ignore[no-untyped-def]
        if name != "b":
            probed.append((name, sids.tolist()))
        return probe(session, name, sids, moment)

    monkeypatch.setattr(uptime_kept, "_probe", counted)
    kept = KeptUptime()
    _same(engine, kept, now - WINDOW, now)
    assert sorted(name for name, _ in probed) == ["a", "l", "n"] and len(probed[0][1]) == 7  # every stream
    probed.clear()
    _same(engine, kept, now - WINDOW, now)
    assert probed == []  # nothing changed
    with Session(engine) as session, session.begin():
        _round(session, now - timedelta(seconds=1))
        changed = sorted([_stream(session), _stream(session, REFDES[1], 1)])
    _same(engine, kept, now - WINDOW, now)
    assert sorted(probed) == [("a", changed), ("l", changed), ("n", changed)]
    probed.clear()
    # An hour later the window start passed no row: nothing probed; at -6 h, the rows at -6.5 h of
    # the first instrument's two streams.
    _same(engine, kept, now - WINDOW + timedelta(hours=1), now + timedelta(hours=1))
    assert probed == []
    _same(engine, kept, now - WINDOW + timedelta(hours=4), now + timedelta(hours=4))
    with Session(engine) as session:
        moved = [_stream(session, REFDES[0], n) for n in (0, 1)]
    assert sorted(probed) == [("a", moved), ("l", moved), ("n", moved)]


def test_generated_writes_and_windows(engine: Engine, now: datetime) -> None:
    """Rows at random times (whole seconds, often exactly at an edge of a window to come), new
    and deleted streams, fills, with the window moving by 0 to 90 minutes, sometimes back."""
    rng = random.Random(7)
    kept = KeptUptime()
    stop = now
    for _ in range(40):
        with Session(engine) as session, session.begin():
            sids = session.scalars(select(DeployedStream.id)).all()
            for _ in range(rng.randrange(4)):
                minutes = timedelta(minutes=rng.randrange(1, 90))  # at an edge of a window to come
                at = stop + rng.choice(
                    [timedelta(seconds=rng.randrange(-12 * 3600, 300)), minutes, minutes - WINDOW]
                )
                _row(session, rng.choice(sids), at, rng.choice(STATES[:4]), rng.choice(STATES[:4]))
            if rng.random() < 0.7:
                fill_cumulative(session)
            if rng.random() < 0.1:
                _new_stream(session, stop)
            if rng.random() < 0.05 and len(sids) > 3:
                session.execute(delete(DeployedStream).where(DeployedStream.id == rng.choice(sids)))
        stop += timedelta(minutes=rng.choice([0, 1, 1, 1, 2, 30, 90, -1]))
        _same(engine, kept, stop - WINDOW, stop)


def test_reports_beyond_the_budget_are_dropped_oldest_first() -> None:
    kept = KeptUptimes(1000)
    first, second = kept.get(WINDOW), kept.get(2 * WINDOW)
    first.size = second.size = 400
    assert kept.get(WINDOW) is first  # used again: the most recent
    kept.fit()
    assert len(kept) == 2
    kept.get(3 * WINDOW).size = 400
    kept.fit()
    assert len(kept) == 2 and kept.get(WINDOW) is first and kept.get(2 * WINDOW) is not second
