"""The check round (spec/MONITOR.md) on SQLite and PostgreSQL, against a hand-built observatory."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.config import Settings
from ooi_status.model.metadata import StreamMetadata
from ooi_status.model.monitor import (
    DeployedStream,
    ExpectedStream,
    MonitorHeartbeat,
    PendingUpdate,
    ReferenceDesignator,
    StatusHistory,
)
from ooi_status.monitor.check import CheckMemory, MonitorSource, run_round
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import datetime_to_ntp, datetime_to_unix_ms

CTD = "CE01ISSM-MFD35-03-CTDBPC000"
UID = "CGINS-CTDBPC-50013"
CTD_STREAMS = ("ctdbp_no_sample", "ctdbp_no_hardware", "ctdbp_no_status", "ctdbp_no_engineering")
DOWN = "RS01SLBS-LJ01A-05-HPIESA101"  # deployment ended: not active
NO_UID = "GP05MOAS-GL523-01-PARADM000"  # open deployment, asset without UID: not active


def expected_rows(session: Session, **intervals: float) -> None:
    values = {"expected_rate": 0.0, "warn_interval": 600, "fail_interval": 1800, **intervals}
    for stream in CTD_STREAMS:
        session.add(ExpectedStream(name=stream, method="streamed", **values))
    session.add(ExpectedStream(name="hpies_status", method="streamed", **values))
    session.commit()


@pytest.fixture
def world(empty_metadata_db, monitor_db, now):
    """An instrument with four streamed streams, plus two instruments the monitor must not check."""
    obs = demo.Observatory()
    obs.add_deployment(CTD, 1, now - timedelta(days=400), now - timedelta(days=200), "CGINS-CTDBPC-40000")
    obs.add_deployment(CTD, 2, now - timedelta(days=190), None, UID)
    obs.add_deployment(DOWN, 1, now - timedelta(days=100), now - timedelta(days=1), "RSINS-HPIES-1")
    obs.add_deployment(NO_UID, 1, now - timedelta(days=100), None, None)
    for stream in CTD_STREAMS:
        obs.add_stream(
            CTD, "streamed", stream, (), last=datetime_to_ntp(now - timedelta(seconds=30)), count=100
        )
    obs.add_stream(CTD, "recovered_host", "ctdbp_no_sample_recovered", (), last=datetime_to_ntp(now), count=1)
    obs.add_stream(DOWN, "telemetered", "ctdbp_cdef_dcl_instrument", (), last=datetime_to_ntp(now), count=1)
    obs.add_stream(DOWN, "streamed", "hpies_status", (), last=datetime_to_ntp(now), count=1)
    obs.add_stream(NO_UID, "streamed", "hpies_status", (), last=datetime_to_ntp(now), count=1)
    demo.write_observatory(empty_metadata_db.engine, obs)
    return World(empty_metadata_db.engine, monitor_db.engine)


class World:
    def __init__(self, metadata, monitor) -> None:
        self.metadata, self.monitor = metadata, monitor
        self.source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
        self.memory = CheckMemory()

    def round(self, now: datetime, settings: Settings | None = None):
        with Session(self.monitor) as session, session.begin():
            return run_round(self.source, session, now, settings, self.memory)

    def set_last(self, stream: str, when: datetime, count: int | None = None) -> None:
        values: dict[str, object] = {"last": datetime_to_ntp(when)}
        if count is not None:
            values["count"] = count
        with self.metadata.begin() as conn:
            conn.execute(
                update(StreamMetadata)
                .where(StreamMetadata.stream == stream, StreamMetadata.method == "streamed")
                .values(values)
            )

    def statuses(self) -> dict[tuple[str, str, str], str]:
        with Session(self.monitor) as session:
            rows = session.execute(
                select(
                    ReferenceDesignator.name,
                    ExpectedStream.method,
                    ExpectedStream.name,
                    DeployedStream.status,
                )
                .join(DeployedStream.reference_designator)
                .join(DeployedStream.expected_stream)
            )
            return {(r, m, s): status for r, m, s, status in rows}

    def history(self) -> list[tuple[str, str, str, float | None]]:
        with Session(self.monitor) as session:
            rows = session.execute(
                select(
                    ExpectedStream.name,
                    StatusHistory.old_status,
                    StatusHistory.new_status,
                    StatusHistory.elapsed,
                )
                .join(DeployedStream, DeployedStream.id == StatusHistory.deployed_stream_id)
                .join(DeployedStream.expected_stream)
                .order_by(StatusHistory.id)
            )
            return [tuple(row) for row in rows]

    def events(self) -> list[PendingUpdate]:
        with Session(self.monitor) as session:
            return list(session.scalars(select(PendingUpdate).order_by(PendingUpdate.id)))


def test_first_round_creates_rows_and_reports_every_stream(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    report = world.round(now)
    assert report.streams_checked == 4
    assert (report.created_instruments, report.created_streams, report.created_expected) == (1, 4, 0)
    assert world.statuses() == {(CTD, "streamed", s): "operational" for s in CTD_STREAMS}
    assert sorted(world.history()) == sorted((s, "notTracked", "operational", 30.0) for s in CTD_STREAMS)
    events = world.events()
    assert len(events) == report.events_queued == 4
    assert {e.asset_uid for e in events} == {UID}
    assert {e.sink for e in events} == {"events"}
    assert all(e.state == "pending" and e.next_attempt_at == now for e in events)
    assert {e.message["notes"] for e in events} == {
        "(notTracked -> operational) data interval within range (0:10:00)"
    }
    assert {e.message["reason"] for e in events} == {"Stream statuses: operational: 4"}


def test_only_monitored_methods_of_instruments_deployed_now_with_a_uid_are_checked(world, now, settings):
    report = world.round(now, settings.replace(MONITORED_METHODS=["recovered_host", "telemetered"]))
    assert report.streams_checked == 1
    assert world.statuses() == {(CTD, "recovered_host", "ctdbp_no_sample_recovered"): "notTracked"}


def test_a_round_that_changes_nothing_writes_no_history_and_no_event(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    before = (world.history(), len(world.events()))
    report = world.round(now + timedelta(seconds=60))
    assert report.changes == report.events_queued == 0
    assert (world.history(), len(world.events())) == before
    # the metadata did not move either: no bookkeeping written, only the heartbeat
    assert report.bookkeeping_written == 0


def test_stale_stream_fails_with_the_event_of_the_spec(world, now):
    """The example of MONITOR.md: 1:02:11 since the last point, fail interval 30 minutes."""
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    later = now + timedelta(hours=1, minutes=1, seconds=41)  # the last point was 30 s before now
    for stream in CTD_STREAMS[1:]:
        world.set_last(stream, later - timedelta(seconds=5))
    report = world.round(later)
    assert report.changes == 1
    assert world.statuses()[(CTD, "streamed", "ctdbp_no_sample")] == "failed"
    assert world.history()[-1] == ("ctdbp_no_sample", "operational", "failed", 3731.0)
    (event_row,) = world.events()[4:]
    assert event_row.message == {
        "@class": ".AssetStatusEvent",
        "assetUid": UID,
        "eventType": "ASSET_STATUS",
        "eventName": "ctdbp_no_sample",
        "status": "failed",
        "severity": 0,
        "reason": "Stream statuses: operational: 3, failed: 1",
        "location": None,
        "eventStartTime": datetime_to_unix_ms(later),
        "notes": "(operational -> failed) data interval threshold exceeded (1:02:11 > 0:30:00)",
        "dataSource": "AUTO: data monitor service",
        "method": "automatic",
    }
    with Session(world.monitor) as session:
        stream = session.scalar(select(DeployedStream).where(DeployedStream.status == "failed"))
        assert stream.status_time == later
        assert stream.last_data_time == now - timedelta(seconds=30)


def test_degraded_between_warn_and_fail_and_recovery(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    world.round(now + timedelta(seconds=601))  # 631 s since the last point: degraded
    assert set(world.statuses().values()) == {"degraded"}
    notes = {e.message["notes"] for e in world.events()[4:]}
    assert notes == {"(operational -> degraded) data interval threshold exceeded (0:10:31 > 0:10:00)"}
    for stream in CTD_STREAMS:
        world.set_last(stream, now + timedelta(seconds=650))
    world.round(now + timedelta(seconds=660))
    assert set(world.statuses().values()) == {"operational"}
    assert {e.message["notes"] for e in world.events()[8:]} == {
        "(degraded -> operational) data interval within range (0:10:00)"
    }


def test_elapsed_equal_to_an_interval_is_not_beyond_it(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now + timedelta(seconds=600 - 30))  # exactly warn_interval since the last point
    assert set(world.statuses().values()) == {"operational"}
    world.round(now + timedelta(seconds=1800 - 30))  # exactly fail_interval
    assert set(world.statuses().values()) == {"degraded"}


def test_new_expected_streams_are_created_not_tracked_and_logged_once(world, now, caplog):
    caplog.set_level("INFO", logger="ooi_status.monitor.check")
    report = world.round(now)
    assert report.created_expected == 4
    assert set(world.statuses().values()) == {"notTracked"}
    assert world.history() == [] and world.events() == []  # notTracked → notTracked is no change
    with Session(world.monitor) as session:
        rows = session.scalars(select(ExpectedStream)).all()
        assert {(e.expected_rate, e.warn_interval, e.fail_interval) for e in rows} == {(0.0, 0, 0)}
    world.round(now + timedelta(seconds=60))
    assert sum("new expected stream" in r.getMessage() for r in caplog.records) == 1


def test_overrides_win_and_disable_means_not_tracked(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    with Session(world.monitor) as session, session.begin():
        ids = dict(session.execute(select(ExpectedStream.name, ExpectedStream.id)).all())
        session.execute(
            update(DeployedStream)
            .where(DeployedStream.expected_stream_id == ids["ctdbp_no_sample"])
            .values(warn_interval=0, fail_interval=60)
        )
        session.execute(
            update(DeployedStream)
            .where(DeployedStream.expected_stream_id == ids["ctdbp_no_hardware"])
            .values(expected_rate=0, warn_interval=0, fail_interval=0)
        )
    world.round(now + timedelta(seconds=100))  # 130 s since the last point
    statuses = world.statuses()
    assert statuses[(CTD, "streamed", "ctdbp_no_sample")] == "failed"  # override fail 60 s
    assert statuses[(CTD, "streamed", "ctdbp_no_hardware")] == "notTracked"
    assert statuses[(CTD, "streamed", "ctdbp_no_status")] == "operational"  # defaults
    notes = sorted(e.message["notes"] for e in world.events()[4:])
    assert notes == [
        "(operational -> failed) data interval threshold exceeded (0:02:10 > 0:01:00)",
        "(operational -> notTracked)",
    ]
    assert {e.message["reason"] for e in world.events()[4:]} == {
        "Stream statuses: operational: 2, failed: 1, notTracked: 1"
    }


def test_rate_below_the_expected_fraction_is_degraded(world, now, settings):
    with Session(world.monitor) as session:
        expected_rows(session, expected_rate=1.0)
    world.round(now)  # opens the rate windows at count 100
    for stream in CTD_STREAMS:
        world.set_last(stream, now + timedelta(seconds=595), count=100 + 60)  # 0.1 Hz over 600 s
    world.set_last("ctdbp_no_sample", now + timedelta(seconds=595), count=100 + 600)  # 1 Hz
    world.round(now + timedelta(seconds=600))
    statuses = world.statuses()
    assert statuses[(CTD, "streamed", "ctdbp_no_sample")] == "operational"
    assert statuses[(CTD, "streamed", "ctdbp_no_hardware")] == "degraded"
    with Session(world.monitor) as session:
        rates = sorted(session.scalars(select(DeployedStream.measured_rate)))
    assert rates == pytest.approx([0.1, 0.1, 0.1, 1.0])
    notes = {e.message["notes"] for e in world.events()[4:]}
    assert notes == {"(operational -> degraded) particle rate below expected (0.1 Hz < 50% of 1 Hz)"}


def test_webhooks_get_every_event_through_the_outbox(world, now, settings):
    with Session(world.monitor) as session:
        expected_rows(session)
    hooks = ["http://127.0.0.1:1/hook-a", "http://127.0.0.1:1/hook-b"]
    report = world.round(now, settings.replace(WEBHOOK_URLS=hooks))
    events = world.events()
    assert report.events_queued == len(events) == 12
    by_sink = {sink: [e.message for e in events if e.sink == sink] for sink in ["events", *hooks]}
    assert by_sink[hooks[0]] == by_sink[hooks[1]] == by_sink["events"]


def test_a_poison_row_is_skipped_and_logged_once(world, now, caplog):
    with Session(world.monitor) as session:
        expected_rows(session)
        session.execute(
            update(ExpectedStream).where(ExpectedStream.name == "ctdbp_no_status").values(warn_interval=-5)
        )
        session.commit()
    caplog.set_level("WARNING", logger="ooi_status.monitor.check")
    report = world.round(now)
    world.round(now + timedelta(seconds=60))
    assert report.skipped == 1 and report.streams_checked == 3
    statuses = world.statuses()
    assert statuses[(CTD, "streamed", "ctdbp_no_status")] == "notTracked"
    assert statuses[(CTD, "streamed", "ctdbp_no_sample")] == "operational"
    assert sum("skipping" in r.getMessage() for r in caplog.records) == 1


def test_a_last_data_time_beyond_any_date_is_a_poison_row(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    with world.metadata.begin() as conn:
        conn.execute(
            update(StreamMetadata).where(StreamMetadata.stream == "ctdbp_no_sample").values(last=1e300)
        )
    report = world.round(now)
    assert (report.skipped, report.streams_checked, report.changes) == (1, 3, 3)


def test_a_round_rolled_back_leaves_nothing_and_the_next_round_sees_the_change(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    with Session(world.monitor) as session:
        session.begin()
        run_round(world.source, session, now)
        session.rollback()  # the process died before the commit
    assert world.history() == [] and world.events() == []
    assert world.round(now).changes == 4


def test_a_round_that_dies_mid_write_leaves_no_partial_state(world, now):
    """The round fails after updating statuses and writing history, before queuing events."""
    with Session(world.monitor) as session:
        expected_rows(session)

    def die_on_outbox(_conn, _cursor, statement, *_rest):
        if statement.lstrip().upper().startswith("INSERT INTO PENDING_UPDATE"):
            raise RuntimeError("killed mid-transaction")

    event.listen(world.monitor, "before_cursor_execute", die_on_outbox)
    try:
        with pytest.raises(RuntimeError, match="killed"):
            world.round(now)
    finally:
        event.remove(world.monitor, "before_cursor_execute", die_on_outbox)
    assert world.history() == [] and world.events() == []
    assert set(world.statuses().values()) <= {"notTracked"}
    report = world.round(now)
    assert report.changes == 4 and len(world.events()) == 4
    assert set(world.statuses().values()) == {"operational"}


def test_heartbeat_of_the_round(world, now):
    with Session(world.monitor) as session:
        expected_rows(session)
    world.round(now)
    world.round(now + timedelta(seconds=60))
    with Session(world.monitor) as session:
        beats = session.scalars(select(MonitorHeartbeat)).all()
    assert [(b.kind, b.started_at, b.ok, b.streams_checked, b.changes) for b in beats] == [
        ("check", now + timedelta(seconds=60), True, 4, 0)
    ]


def test_the_round_reads_and_writes_in_a_fixed_number_of_statements(empty_metadata_db, monitor_db, now):
    """Set-based: 3 instruments first, then 57 more deployed later: no more statements for 20× the streams."""
    obs = demo.Observatory()
    for index in range(60):
        refdes = f"CE{index:02d}ISSM-MFD35-03-CTDBPC{index:03d}"
        start = now - timedelta(days=1) if index < 3 else now + timedelta(hours=1)
        obs.add_deployment(refdes, 1, start, None, f"UID-{index}")
        for stream in CTD_STREAMS:
            obs.add_stream(
                refdes, "streamed", stream, (), last=datetime_to_ntp(now) - index * 100, count=index
            )
    demo.write_observatory(empty_metadata_db.engine, obs)
    with Session(monitor_db.engine) as session:
        expected_rows(session)
    world = World(empty_metadata_db.engine, monitor_db.engine)

    def statements(at: datetime) -> list[str]:
        seen: list[str] = []
        listener = lambda _conn, _cursor, statement, *rest: seen.append(statement)  # noqa: E731
        event.listen(monitor_db.engine, "before_cursor_execute", listener)
        try:
            report = world.round(at)
        finally:
            event.remove(monitor_db.engine, "before_cursor_execute", listener)
        assert report.created_streams > 0
        return seen

    first = statements(now)
    second = statements(now + timedelta(hours=2))
    # 12 streams, then 240: no statement per stream (13: the read of timed disables that ended)
    assert len(first) <= 13 and len(second) <= 13
    with Session(monitor_db.engine) as session:
        assert session.scalar(select(func.count()).select_from(DeployedStream)) == 240
        assert session.scalar(select(func.count()).select_from(ReferenceDesignator)) == 60
