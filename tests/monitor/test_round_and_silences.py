"""A check round and the operators' marks: silences change nothing the round computes or sends."""

from datetime import timedelta

from sqlalchemy.orm import Session

from monitor.test_check import CTD, CTD_STREAMS, UID, expected_rows, world  # noqa: F401  (fixture)
from ooi_status.model.monitor import Silence


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
