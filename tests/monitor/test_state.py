"""The monitor schema as a check round reads it (ooi_status.monitor.state): rows by name."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator
from ooi_status.monitor.state import FIRST_SEEN, DeployedRow, ExpectedRow, MonitorState


def test_every_field_of_a_row_holds_its_own_column(monitor_db, now) -> None:
    """Each field is read from the column of its name: no two stored values are alike, so a
    value read into another field's place would show."""
    with Session(monitor_db.engine) as session, session.begin():
        refdes = ReferenceDesignator(name="CE01ISSM-MFD35-03-CTDBPC000")
        expected = ExpectedStream(
            name="ctdbp_no_sample",
            method="streamed",
            expected_rate=0.5,
            warn_interval=600,
            fail_interval=1800,
        )
        session.add_all([refdes, expected])
        session.flush()
        stream = DeployedStream(
            reference_designator_id=refdes.id, expected_stream_id=expected.id, expected_rate=2.5,
            warn_interval=60, fail_interval=120, status="degraded", status_time=now - timedelta(hours=5),
            last_data_time=now - timedelta(minutes=3), particle_count=1001, checked_at=now,
            rate_base_count=901, rate_base_time=now - timedelta(minutes=7), measured_rate=0.125,
        )  # fmt: skip
        session.add(stream)
        session.flush()
        refdes_id, expected_id, stream_id = refdes.id, expected.id, stream.id
    with Session(monitor_db.engine) as session, session.begin():
        state = MonitorState.load(session, {"CE01ISSM-MFD35-03-CTDBPC000"}, {("ctdbp_no_sample", "streamed")})
        stored = session.get_one(DeployedStream, stream_id)
        assert state.refdes_ids == {"CE01ISSM-MFD35-03-CTDBPC000": refdes_id}
        assert state.expected == {
            ("ctdbp_no_sample", "streamed"): ExpectedRow(
                id=expected_id, expected_rate=0.5, warn_interval=600, fail_interval=1800
            )
        }
        row = state.deployed[(refdes_id, expected_id)]
        assert type(row) is DeployedRow
        assert row._asdict() == {name: getattr(stored, name) for name in DeployedRow._fields}
        assert (row.status, row.particle_count, row.rate_base_count) == ("degraded", 1001, 901)
        assert (state.created_instruments, state.created_expected) == (0, 0)


def test_a_stream_seen_first_is_not_tracked_with_nothing_stored() -> None:
    assert FIRST_SEEN.id is None and FIRST_SEEN.status == "notTracked"
    assert all(value is None for name, value in FIRST_SEEN._asdict().items() if name != "status")
