"""The monitor schema: the tables ooi_status owns (built by Alembic migrations only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ooi_status.model.types import JSONDocument, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Outbox row states.
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
#: The outbox sink of the OOI events API; a webhook row names its URL instead.
EVENTS_SINK = "events"
#: Outbox sinks of messages for people: "mailto:<address>", "chat:<webhook URL>".
EMAIL_PREFIX, CHAT_PREFIX = "mailto:", "chat:"


def sink_kind(sink: str) -> str:
    """The kind of an outbox sink: events, webhook, email or chat."""
    if sink == EVENTS_SINK:
        return "events"
    if sink.startswith(EMAIL_PREFIX):
        return "email"
    return "chat" if sink.startswith(CHAT_PREFIX) else "webhook"


class MonitorBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __table__: ClassVar[Table]  # every model is a table (DeclarativeBase says FromClause)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONDocument}


class ReferenceDesignator(MonitorBase):
    """One instrument: ``SUBSITE-NODE-SENSOR``."""

    __tablename__ = "reference_designator"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)

    streams: Mapped[list[DeployedStream]] = relationship(back_populates="reference_designator")


class ExpectedStream(MonitorBase):
    """Default expected rate and intervals of a stream name delivered by one method."""

    __tablename__ = "expected_stream"
    __table_args__ = (UniqueConstraint("name", "method"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(255))
    expected_rate: Mapped[float] = mapped_column(Float, default=0.0)
    warn_interval: Mapped[int] = mapped_column(Integer, default=0)
    fail_interval: Mapped[int] = mapped_column(Integer, default=0)


class DeployedStream(MonitorBase):
    """One stream of one instrument: optional overrides, current status, bookkeeping."""

    __tablename__ = "deployed_stream"
    __table_args__ = (
        UniqueConstraint("reference_designator_id", "expected_stream_id"),
        Index("ix_deployed_stream_status", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference_designator_id: Mapped[int] = mapped_column(ForeignKey("reference_designator.id"))
    expected_stream_id: Mapped[int] = mapped_column(ForeignKey("expected_stream.id"), index=True)
    # Overrides: None = use the expected stream's value; all three 0 = not tracked.
    expected_rate: Mapped[float | None] = mapped_column(Float)
    warn_interval: Mapped[int | None] = mapped_column(Integer)
    fail_interval: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="notTracked")
    status_time: Mapped[datetime | None]
    # Bookkeeping written by every check round.
    last_data_time: Mapped[datetime | None]
    particle_count: Mapped[int | None] = mapped_column(BigInteger)
    checked_at: Mapped[datetime | None]
    # Start of the current rate window: count and time; the rate measured over the last full window.
    rate_base_count: Mapped[int | None] = mapped_column(BigInteger)
    rate_base_time: Mapped[datetime | None]
    measured_rate: Mapped[float | None] = mapped_column(Float)
    # Set while the stream is flapping (ooi_status.notify.flapping): when it started.
    flapping_since: Mapped[datetime | None]
    # An operator's acknowledgement of a failed or degraded stream; cleared by the check round
    # once the stream is neither (ooi_status.monitor.marks).
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    # Who disabled the stream, when, why and until when (None: until enabled by hand).
    disabled_by: Mapped[str | None] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_until: Mapped[datetime | None] = mapped_column(index=True)

    reference_designator: Mapped[ReferenceDesignator] = relationship(back_populates="streams")
    expected_stream: Mapped[ExpectedStream] = relationship()


class StatusHistory(MonitorBase):
    """One status change of one deployed stream."""

    __tablename__ = "status_history"
    __table_args__ = (
        Index("ix_status_history_stream_time", "deployed_stream_id", "changed_at", "id"),
        Index(
            "ix_status_history_unfilled",
            "deployed_stream_id",
            postgresql_where=text("cum_operational IS NULL"),
            sqlite_where=text("cum_operational IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_stream_id: Mapped[int] = mapped_column(ForeignKey("deployed_stream.id", ondelete="CASCADE"))
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime]
    # Seconds since the stream's last data point when the change was seen (None: no data point).
    elapsed: Mapped[float | None] = mapped_column(Float)
    # What else happened to the stream at that moment (a timed disable that ended), or None.
    note: Mapped[str | None] = mapped_column(Text)
    # Seconds the stream spent in each status from its first history row up to this row's
    # changed_at (ooi_status.reports.uptime.fill_cumulative); None until filled.
    cum_operational: Mapped[float | None] = mapped_column(Float)
    cum_degraded: Mapped[float | None] = mapped_column(Float)
    cum_failed: Mapped[float | None] = mapped_column(Float)
    cum_not_tracked: Mapped[float | None] = mapped_column(Float)


class StatusLatest(MonitorBase):
    """Each stream's latest history row (by changed_at, then id) with its cumulative seconds, kept
    by ooi_status.reports.uptime.fill_cumulative with the rows it fills: the uptime report reads a
    stream's seconds at a moment after that row from here instead of probing the history. Deleting
    the history row deletes this one (the report then probes the history)."""

    __tablename__ = "status_latest"
    deployed_stream_id: Mapped[int] = mapped_column(
        ForeignKey("deployed_stream.id", ondelete="CASCADE"), primary_key=True
    )
    history_id: Mapped[int] = mapped_column(ForeignKey("status_history.id", ondelete="CASCADE"), index=True)
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime]
    cum_operational: Mapped[float] = mapped_column(Float)
    cum_degraded: Mapped[float] = mapped_column(Float)
    cum_failed: Mapped[float] = mapped_column(Float)
    cum_not_tracked: Mapped[float] = mapped_column(Float)


class PendingUpdate(MonitorBase):
    """The event outbox: one message for one destination, delivered at least once.

    ``sink`` is "events" (the OOI events API) or a webhook URL. Rows are claimed by
    setting ``claimed_until`` in a guarded UPDATE; a row is marked delivered only
    after the destination acknowledged it, and is kept as an audit trail.
    """

    __tablename__ = "pending_update"
    __table_args__ = (
        Index("ix_pending_update_due", "state", "next_attempt_at"),
        Index("ix_pending_update_asset", "asset_uid", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployed_stream.id", ondelete="SET NULL")
    )
    asset_uid: Mapped[str] = mapped_column(String(128))
    sink: Mapped[str] = mapped_column(String(1024), default="events")
    message: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class MonitorHeartbeat(MonitorBase):
    """The latest round of each kind ("check", "deliver"): what /health and /metrics read."""

    __tablename__ = "monitor_heartbeat"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    started_at: Mapped[datetime]
    duration: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool]
    streams_checked: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    events_delivered: Mapped[int] = mapped_column(Integer, default=0)
    events_failed: Mapped[int] = mapped_column(Integer, default=0)
    events_dead: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class MonitorLeader(MonitorBase):
    """One row: the leadership epoch (fencing token) of the monitors sharing this database.

    A monitor that takes the leader lock moves ``epoch`` forward and keeps the value; each of its
    rounds commits only while the row still holds it (ooi_status.monitor.leader), so a monitor
    that lost the lock without knowing it never commits over its successor's work.
    """

    __tablename__ = "monitor_leader"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str | None] = mapped_column(String(255))
    taken_at: Mapped[datetime | None]


class Silence(MonitorBase):
    """A silence or maintenance window: streams under a reference-designator prefix, for a time.

    ``refdes`` is a prefix: a site (``CE01ISSM``), a node (``CE01ISSM-MFD35``) or one
    instrument; ``method`` and ``stream`` narrow it (None = any). Rows are never deleted:
    ending one early sets ``ended_at`` and moves ``ends_at`` to that moment (ooi_status.silences).
    """

    __tablename__ = "silence"
    __table_args__ = (Index("ix_silence_ends_at", "ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    refdes: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(255))
    stream: Mapped[str | None] = mapped_column(String(255))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Subscription(MonitorBase):
    """Who is told in words about status changes: an e-mail address or a chat webhook.

    ``match`` is a reference-designator prefix ("" = everything); ``min_status`` the least
    severe status that is worth a message; ``mode`` immediate, digest or both.
    ``last_digest_at`` is when the last daily digest was queued (None: never).
    """

    __tablename__ = "subscription"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(1024))
    match: Mapped[str] = mapped_column(String(100), default="")
    min_status: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_digest_at: Mapped[datetime | None]


class NotifyState(MonitorBase):
    """Named moments of the notification steps; "round": status history up to it was notified."""

    __tablename__ = "notify_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]


# --- data revision (ooi_status.revision) ----------------------------------------------------------


class DataRevision(MonitorBase):
    """One row: a number that every committed change of what the API lists moves forward.

    Written in the same transaction as the change (ooi_status.revision.bump), so a reader that
    sees a revision sees every change committed before it; the API keys its cached answers and
    ETags on it.
    """

    __tablename__ = "data_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)


# --- port-agent statistics ---------------------------------------------------------------------


class PortCount(MonitorBase):
    """One byte count of a port agent: ``elapsed`` seconds ending at ``end_time`` (kept raw a week).

    Unique on (refdes, end_time): a message delivered twice is stored once.
    """

    __tablename__ = "port_count"
    __table_args__ = (
        UniqueConstraint("refdes", "end_time"),
        Index("ix_port_count_end_time", "end_time"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    refdes: Mapped[str] = mapped_column(String(100))
    end_time: Mapped[datetime]
    elapsed: Mapped[float] = mapped_column(Float)
    bytes_in: Mapped[int] = mapped_column(BigInteger)
    bytes_out: Mapped[int] = mapped_column(BigInteger)
    adds: Mapped[int] = mapped_column(BigInteger)
    clients: Mapped[int] = mapped_column(Integer)


class PortCountHourly(MonitorBase):
    """The port counts of one instrument whose end_time falls in one hour, summed (kept 400 days)."""

    __tablename__ = "port_count_hourly"
    __table_args__ = (Index("ix_port_count_hourly_hour", "hour"),)
    refdes: Mapped[str] = mapped_column(String(100), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    bytes_in: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)
    counts: Mapped[int] = mapped_column(Integer)


class PortAgent(MonitorBase):
    """What the diagnosis needs of one instrument's port agent, kept up to date by the consumer."""

    __tablename__ = "port_agent"
    refdes: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_time: Mapped[datetime]  # start of the earliest count received (end_time - elapsed)
    last_time: Mapped[datetime]  # end of the latest count received
    last_nonzero_time: Mapped[datetime | None]  # end of the latest count with bytes_in > 0


class PortStatsRejection(MonitorBase):
    """Messages of the port-agent queue set aside as bad, by reason (what /metrics reports)."""

    __tablename__ = "port_stats_rejection"
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[datetime]


class Coverage(MonitorBase):
    """Seconds of each availability category of one stream over one month or deployment.

    ``window_start``/``window_stop`` are the window the availability rules ran over
    (ooi_status.coverage: /available over that window gives the same durations);
    ``period_start`` is the month's or deployment's own start, which reports filter on.
    """

    __tablename__ = "coverage"
    __table_args__ = (
        UniqueConstraint("refdes", "method", "stream", "kind", "period"),
        Index("ix_coverage_kind_period_start", "kind", "period_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    refdes: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(255))
    stream: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # "month" or "deployment"
    period: Mapped[str] = mapped_column(String(16))  # "2016-01" or the deployment number
    period_start: Mapped[datetime]
    window_start: Mapped[datetime]
    window_stop: Mapped[datetime]
    present: Mapped[float] = mapped_column(Float)
    sparse1: Mapped[float] = mapped_column(Float)
    sparse2: Mapped[float] = mapped_column(Float)
    sparse3: Mapped[float] = mapped_column(Float)
    missing: Mapped[float] = mapped_column(Float)
    not_expected: Mapped[float] = mapped_column(Float)


class CoverageStream(MonitorBase):
    """Per stream: the stream metadata and deployments its coverage rows were computed from.

    The monitor recomputes a stream when its stream_metadata (count, first, last) or its
    instrument's deployments differ from these, or when ``refreshed_at`` is too old.
    ``tail_points`` are the points of its bins ending after ``last`` at that time.
    ``longest_bin`` is the longest span (last point − bin start) of the bins read then, every
    store's row counted (None: unknown): a later incremental read of the bins reaching past a
    moment needs no bin starting earlier than that moment minus it (ooi_status.reports.coverage_upkeep).
    """

    __tablename__ = "coverage_stream"
    __table_args__ = (UniqueConstraint("refdes", "method", "stream"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    refdes: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(255))
    stream: Mapped[str] = mapped_column(String(255))
    count: Mapped[int | None] = mapped_column(BigInteger)
    first: Mapped[float | None] = mapped_column(Float)
    last: Mapped[float | None] = mapped_column(Float)
    tail_points: Mapped[int] = mapped_column(BigInteger)
    deployments: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    refreshed_at: Mapped[datetime]
    longest_bin: Mapped[float | None] = mapped_column(Float)
