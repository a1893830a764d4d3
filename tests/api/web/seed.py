"""Monitor rows for the page's tests, written with the ORM as a check round would leave them.

Every monitored stream (streamed, telemetered) of a demo observatory gets a deployed
stream with the expected intervals of the OOI tables, its last data time, a status from
the real rules, and a short history. A few streams are shaped so that every status
shows: one disabled (notTracked), one degraded (silent between its warn and fail intervals),
one failed (silent past its fail interval).
``seed_fleet_rows`` writes the large fleet in bulk, for the page's speed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory
from ooi_status.monitor.expected import read_expected_csv, upsert_expected
from ooi_status.status import Intervals, Overrides, effective_intervals, rollup, stream_status
from ooi_status.times import ntp_to_datetime


@dataclass
class Seeded:
    """What was written: streams per refdes with their status, for the tests' expectations."""

    statuses: dict[str, dict[int, str]] = field(default_factory=dict)
    names: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (method, stream)
    status_times: dict[int, datetime] = field(default_factory=dict)  # id -> its status_time
    disabled_id: int = 0
    degraded_id: int = 0
    failed_id: int = 0

    def overall(self) -> dict[str, str]:
        return {refdes: str(rollup(streams.values())) for refdes, streams in self.statuses.items()}

    def last_change(self, refdes: str) -> datetime:
        """The newest status_time of the instrument's streams: its last status change."""
        return max(self.status_times[i] for i in self.statuses[refdes])

    def instrument_counts(self) -> Counter[str]:
        return Counter(self.overall().values())

    def stream_counts(self) -> Counter[str]:
        return Counter(s for streams in self.statuses.values() for s in streams.values())


def seed_monitor(engine: Engine, obs: demo.Observatory, now: datetime) -> Seeded:
    seeded = Seeded()
    with Session(engine) as session, session.begin():
        upsert_expected(
            session, read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        )
        session.flush()
        expected = {(e.name, e.method): e for e in session.scalars(select(ExpectedStream))}
        monitored = [s for s in obs.streams if s["method"] in demo.MONITORED]
        for position, row in enumerate(monitored):
            _add_stream(session, seeded, expected, row, position, now)
    return seeded


def _add_stream(
    session: Session,
    seeded: Seeded,
    expected: dict[tuple[str, str], ExpectedStream],
    row: dict,
    position: int,
    now: datetime,
) -> None:
    refdes = f"{row['subsite']}-{row['node']}-{row['sensor']}"
    designator = session.scalar(select(ReferenceDesignator).where(ReferenceDesignator.name == refdes))
    if designator is None:
        designator = ReferenceDesignator(name=refdes)
        session.add(designator)
    stream = expected[(row["stream"], row["method"])]
    defaults = Intervals(stream.expected_rate, stream.warn_interval, stream.fail_interval)
    overrides = Overrides(0, 0, 0) if position == 1 else Overrides()
    last_data = ntp_to_datetime(row["last"]) if row["last"] else None
    warn, fail = defaults.warn_interval, defaults.fail_interval
    make_degraded = position >= 2 and not seeded.degraded_id and 0 < warn < fail - 2
    make_failed = position >= 3 and not seeded.failed_id and not make_degraded and fail > 0
    if make_degraded:
        last_data = now - timedelta(seconds=(warn + fail) // 2)
    if make_failed:
        last_data = now - timedelta(seconds=fail + 600)
    intervals = effective_intervals(defaults, overrides)
    status = str(stream_status(last_data, intervals, now))
    first_seen = now - timedelta(days=30 - position % 20, minutes=37 * position)
    changes = _history(status, first_seen, last_data, defaults, disabled_at=now - timedelta(hours=2))
    deployed = DeployedStream(
        reference_designator=designator,
        expected_stream=stream,
        expected_rate=overrides.expected_rate,
        warn_interval=overrides.warn_interval,
        fail_interval=overrides.fail_interval,
        status=status,
        status_time=changes[-1][2] if changes else first_seen,
        last_data_time=last_data,
        checked_at=now,
    )
    session.add(deployed)
    session.flush()
    session.add_all(
        StatusHistory(
            deployed_stream_id=deployed.id, old_status=old, new_status=new, changed_at=at, elapsed=age
        )
        for old, new, at, age in changes
    )
    seeded.statuses.setdefault(refdes, {})[deployed.id] = status
    seeded.names[deployed.id] = (row["method"], row["stream"])
    seeded.status_times[deployed.id] = deployed.status_time
    if position == 1:
        seeded.disabled_id = deployed.id
    if make_degraded:
        seeded.degraded_id = deployed.id
    if make_failed:
        seeded.failed_id = deployed.id


Change = tuple[str, str, datetime, float | None]


def _history(
    status: str, first_seen: datetime, last_data: datetime | None, defaults: Intervals, disabled_at: datetime
) -> list[Change]:
    """The changes a monitor would have recorded: first seen, then silent past warn and fail."""
    if not defaults.tracked:
        return []  # notTracked from the start: never a change
    changes: list[Change] = [("notTracked", "operational", first_seen, 12.0)]
    if status == "notTracked":  # disabled by an operator
        changes.append(("operational", "notTracked", disabled_at, 8.0))
    elif status != "operational" and last_data is not None:
        for threshold, old, new in (
            (defaults.warn_interval, "operational", "degraded"),
            (defaults.fail_interval, "degraded" if defaults.warn_interval else "operational", "failed"),
        ):
            if threshold and (new == status or status == "failed"):
                # Silent since before it was first seen: the first round after that saw it.
                seen = max(
                    last_data + timedelta(seconds=threshold + 20), changes[-1][2] + timedelta(minutes=1)
                )
                changes.append((old, new, seen, (seen - last_data).total_seconds()))
    return changes


FLEET_STATUSES = ("operational",) * 7 + ("degraded", "failed", "notTracked")


def seed_fleet_rows(engine: Engine, now: datetime, instruments: int = 3000) -> Seeded:
    """``instruments`` instruments × the four streams of demo.fleet_expected(), statuses in a fixed cycle."""
    seeded = Seeded()
    with Session(engine) as session, session.begin():
        expected = [ExpectedStream(**values) for values in demo.fleet_expected()]
        session.add_all(expected)
        session.flush()
        names = [f"FL{i // 1000:02d}SITE-N{i % 1000:04d}-01-CTDBPA{i % 1000:03d}" for i in range(instruments)]
        session.execute(insert(ReferenceDesignator), [{"id": i + 1, "name": n} for i, n in enumerate(names)])
        rows = []
        for i, refdes in enumerate(names):
            for j, stream in enumerate(expected):
                status = FLEET_STATUSES[(i * 3 + j) % len(FLEET_STATUSES)]
                ident = i * len(expected) + j + 1
                rows.append(
                    {
                        "id": ident,
                        "reference_designator_id": i + 1,
                        "expected_stream_id": stream.id,
                        "status": status,
                        "status_time": now - timedelta(minutes=(i * 7 + j) % 5000),
                        "last_data_time": now - timedelta(seconds=(i * 13 + j) % 7200),
                    }
                )
                seeded.statuses.setdefault(refdes, {})[ident] = status
                seeded.status_times[ident] = rows[-1]["status_time"]
        session.execute(insert(DeployedStream), rows)
    return seeded
