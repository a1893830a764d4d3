"""A node of six instruments and one instrument elsewhere, driven through the real monitor
(check round, notification step, outbox delivery) with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.config import Settings
from ooi_status.model.metadata import StreamMetadata
from ooi_status.model.monitor import ExpectedStream, PendingUpdate, Subscription
from ooi_status.monitor.daemon import Monitor
from ooi_status.times import datetime_to_ntp

NODE = "CE01ISSM-MFD35"
NODE_INSTRUMENTS = [
    f"{NODE}-01-VELPTA000",
    f"{NODE}-02-PRESFA000",
    f"{NODE}-03-CTDBPC000",
    f"{NODE}-04-ADCPTM000",
    f"{NODE}-05-PCO2WB000",
    f"{NODE}-06-PHSEND000",
]
OTHER = "CE02SHBP-LJ01D-06-CTDBPN106"
INSTRUMENTS = [*NODE_INSTRUMENTS, OTHER]


def stream_of(refdes: str) -> str:
    return refdes.rsplit("-", 1)[1].lower() + "_sample"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class NotifyWorld:
    """``step(at, stale=...)``: streams of ``stale`` instruments last saw data 2 h before
    ``at``, every other one 30 s before; then one check (with its notification step) and
    one delivery round at ``at``."""

    def __init__(self, settings: Settings, metadata, monitor, now: datetime) -> None:
        self.settings, self.metadata, self.engine = settings, metadata, monitor
        self.clock = Clock(now)
        self.monitor = Monitor(settings, self.clock)

    def restart(self) -> None:
        self.monitor.close()
        self.monitor = Monitor(self.settings, self.clock)

    def set_data(self, at: datetime, stale: set[str]) -> None:
        with self.metadata.begin() as conn:
            for refdes in INSTRUMENTS:
                last = at - (timedelta(hours=2) if refdes in stale else timedelta(seconds=30))
                subsite, node, sensor = demo.split_refdes(refdes)
                conn.execute(
                    update(StreamMetadata)
                    .where(StreamMetadata.subsite == subsite, StreamMetadata.node == node)
                    .where(StreamMetadata.sensor == sensor)
                    .values(last=datetime_to_ntp(last))
                )

    def step(self, at: datetime, stale: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.clock.now = at
        self.set_data(at, set(stale))
        assert self.monitor.check()
        self.monitor.deliver()

    def subscribe(self, created_at: datetime, **values: str) -> int:
        fields = {"kind": "email", "target": "ops@example.org", "match": "", "min_status": "failed"}
        fields.update({"mode": "immediate", **values})
        with Session(self.engine) as session, session.begin():
            row = Subscription(**fields, created_by="ops", created_at=created_at)
            session.add(row)
            session.flush()
            return row.id

    def outbox(self, prefix: str = "mailto:") -> list[PendingUpdate]:
        with Session(self.engine) as session:
            query = (
                select(PendingUpdate).where(PendingUpdate.sink.startswith(prefix)).order_by(PendingUpdate.id)
            )
            return list(session.scalars(query))

    def close(self) -> None:
        self.monitor.close()


def build_world(metadata_engine, monitor_engine, settings: Settings, now: datetime) -> NotifyWorld:
    obs = demo.Observatory()
    for number, refdes in enumerate(INSTRUMENTS, start=1):
        obs.add_deployment(refdes, 1, now - timedelta(days=30), None, f"UID-{number}")
        obs.add_stream(refdes, "streamed", stream_of(refdes), (), last=datetime_to_ntp(now), count=10)
    demo.write_observatory(metadata_engine, obs)
    with Session(monitor_engine) as session, session.begin():
        for refdes in INSTRUMENTS:
            session.add(ExpectedStream(name=stream_of(refdes), method="streamed", expected_rate=0.0,
                                       warn_interval=600, fail_interval=1800))  # fmt: skip
    return NotifyWorld(settings, metadata_engine, monitor_engine, now)
