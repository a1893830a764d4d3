"""A check round and the operators' marks: silences change nothing the round computes or sends;
acknowledgements are cleared on recovery; timed disables end within one round of their end."""

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.test_check import CTD, CTD_STREAMS, UID, expected_rows, world  # noqa: F401  (fixture)
from ooi_status.model.monitor import DeployedStream, ExpectedStream, Silence, StatusHistory


def test_a_silenced_stream_is_checked_recorded_and_its_events_queued_as_always(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session)
        session.add(
            Silence(refdes="CE01ISSM", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=9),
                    reason="cruise", created_by="ops", created_at=now)
        )  # fmt: skip
        session.commit()
    world.round(now)
    later = now + timedelta(hours=2)
    world.set_last(CTD_STREAMS[0], later - timedelta(seconds=5))
    report = world.round(later)
    assert report.changes == 3
    assert world.statuses()[(CTD, "streamed", CTD_STREAMS[1])] == "failed"
    failed = [row for row in world.history() if row[2] == "failed"]
    assert sorted(row[0] for row in failed) == sorted(CTD_STREAMS[1:])
    events = [e for e in world.events() if e.created_at == later]
    assert len(events) == 3 and {e.asset_uid for e in events} == {UID}


def _ctd_stream(site, name):
    with Session(site.monitor) as session:
        return session.scalar(
            select(DeployedStream).join(DeployedStream.expected_stream).where(ExpectedStream.name == name)
        )


def test_an_acknowledgement_is_kept_while_failed_and_cleared_when_operational(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    later = now + timedelta(hours=2)
    world.set_last(CTD_STREAMS[0], later - timedelta(seconds=5))
    world.round(later)  # the other three fail
    with Session(world.monitor) as session, session.begin():
        session.execute(
            update(DeployedStream).values(
                acknowledged_by="ops", acknowledged_at=later, acknowledged_note="seen"
            )
        )
    world.round(later + timedelta(minutes=1))
    assert _ctd_stream(world, CTD_STREAMS[1]).acknowledged_note == "seen"  # still failed: kept
    recovered = later + timedelta(minutes=2)
    world.set_last(CTD_STREAMS[1], recovered - timedelta(seconds=5))
    world.round(recovered)
    assert _ctd_stream(world, CTD_STREAMS[1]).status == "operational"
    assert _ctd_stream(world, CTD_STREAMS[1]).acknowledged_at is None
    assert _ctd_stream(world, CTD_STREAMS[2]).acknowledged_by == "ops"  # still failed


def test_a_timed_disable_ends_in_the_first_round_after_until_with_a_history_note(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    until = now + timedelta(minutes=30)
    with Session(world.monitor) as session, session.begin():
        session.execute(
            update(DeployedStream).values(
                expected_rate=0, warn_interval=0, fail_interval=0, disabled_by="ops", disabled_at=now,
                disabled_reason="cable repair", disabled_until=until,
            )
        )  # fmt: skip
    world.round(now + timedelta(minutes=1))
    assert set(world.statuses().values()) == {"notTracked"}
    world.round(until - timedelta(seconds=1))
    assert set(world.statuses().values()) == {"notTracked"}
    assert _ctd_stream(world, CTD_STREAMS[0]).disabled_until == until
    # The first round at or after until tracks them again: the last data is 30.5 min old, past fail.
    world.round(until)
    assert set(world.statuses().values()) == {"failed"}
    stream = _ctd_stream(world, CTD_STREAMS[0])
    assert (stream.warn_interval, stream.disabled_until, stream.disabled_reason) == (None, None, None)
    with Session(world.monitor) as session:
        rows = session.scalars(
            select(StatusHistory).where(StatusHistory.changed_at == until).order_by(StatusHistory.id)
        ).all()
    assert len(rows) == 4
    assert {(row.old_status, row.new_status) for row in rows} == {("notTracked", "failed")}
    assert {row.note for row in rows} == {
        "re-enabled: the disable by ops until 2026-11-23 12:30:00 ended (cable repair)"
    }


def test_a_re_enabled_stream_without_a_status_change_gets_a_history_row_of_its_own(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session, warn_interval=0, fail_interval=0)  # nothing tracked by default
    world.round(now)
    until = now + timedelta(minutes=5)
    with Session(world.monitor) as session, session.begin():
        session.execute(
            update(DeployedStream).values(
                expected_rate=0, warn_interval=0, fail_interval=0, disabled_by="ops", disabled_until=until
            )
        )
    world.round(until + timedelta(seconds=30))
    with Session(world.monitor) as session:
        rows = session.scalars(select(StatusHistory).where(StatusHistory.note.is_not(None))).all()
    assert len(rows) == 4
    assert {(row.old_status, row.new_status, row.elapsed) for row in rows} == {
        ("notTracked", "notTracked", None)
    }
    assert {row.note for row in rows} == {"re-enabled: the disable by ops until 2026-11-23 12:05:00 ended"}


def test_overrides_edited_after_a_timed_disable_are_kept_when_it_ends(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    with Session(world.monitor) as session, session.begin():
        session.execute(
            update(DeployedStream).values(
                warn_interval=100, disabled_by="ops", disabled_until=now + timedelta(minutes=1)
            )
        )
    world.round(now + timedelta(minutes=2))
    stream = _ctd_stream(world, CTD_STREAMS[0])
    assert (stream.warn_interval, stream.disabled_until) == (100, None)
