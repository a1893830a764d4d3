"""The OOI metadata tables ooi_status reads (spec METADATA_SCHEMA.md), read-only.

They live in their own MetaData: Alembic never sees them and nothing reflects the
database at import. Times stay in their stored units (NTP seconds, Unix ms) in the
columns; the ``*_time`` properties convert them through ooi_status.times.
Only the demo and benchmark generators create these tables, to build a synthetic copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, MetaData, String, Table, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ooi_status.model.types import UTCDateTime
from ooi_status.times import ntp_to_datetime, unix_ms_to_datetime


class MetadataBase(DeclarativeBase):
    metadata = MetaData()
    __table__: ClassVar[Table]  # every model is a table (DeclarativeBase says FromClause)
    type_annotation_map = {datetime: UTCDateTime}


class StreamMetadata(MetadataBase):
    __tablename__ = "stream_metadata"
    __table_args__ = (UniqueConstraint("subsite", "node", "sensor", "method", "stream"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subsite: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(16))
    sensor: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(255))
    stream: Mapped[str] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(BigInteger)
    first: Mapped[float] = mapped_column(Float(53))
    last: Mapped[float] = mapped_column(Float(53))

    @property
    def refdes(self) -> str:
        return f"{self.subsite}-{self.node}-{self.sensor}"

    @property
    def last_time(self) -> datetime:
        return ntp_to_datetime(self.last)


class PartitionMetadata(MetadataBase):
    __tablename__ = "partition_metadata"
    __table_args__ = (UniqueConstraint("subsite", "node", "sensor", "method", "stream", "bin", "store"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subsite: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(16))
    sensor: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(255))
    stream: Mapped[str] = mapped_column(String(255))
    store: Mapped[str] = mapped_column(String(255))
    bin: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(BigInteger)
    first: Mapped[float] = mapped_column(Float(53))
    last: Mapped[float] = mapped_column(Float(53))
    modified: Mapped[datetime | None]


class XEvent(MetadataBase):
    __tablename__ = "xevent"
    eventid: Mapped[int] = mapped_column(Integer, primary_key=True)
    eventname: Mapped[str | None] = mapped_column(String(255))
    eventtype: Mapped[str | None] = mapped_column(String(255))
    eventstarttime: Mapped[int | None] = mapped_column(BigInteger)
    eventstoptime: Mapped[int | None] = mapped_column(BigInteger)
    datasource: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(String(2000))
    assetuid: Mapped[str | None] = mapped_column(String(128))
    lastmodifiedtimestamp: Mapped[int | None] = mapped_column(BigInteger)

    __mapper_args__ = {"polymorphic_on": "eventtype", "polymorphic_identity": "EVENT"}

    @property
    def start_time(self) -> datetime | None:
        return None if self.eventstarttime is None else unix_ms_to_datetime(self.eventstarttime)

    @property
    def stop_time(self) -> datetime | None:
        return None if self.eventstoptime is None else unix_ms_to_datetime(self.eventstoptime)


class XAsset(MetadataBase):
    __tablename__ = "xasset"
    assetid: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str | None] = mapped_column(String(128), unique=True)
    assettype: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))


class XInstrument(MetadataBase):
    __tablename__ = "xinstrument"
    assetid: Mapped[int] = mapped_column(ForeignKey("xasset.assetid"), primary_key=True)
    eventid: Mapped[int | None] = mapped_column(Integer)


class XDeployment(XEvent):
    __tablename__ = "xdeployment"
    __table_args__ = (UniqueConstraint("subsite", "node", "sensor", "deploymentnumber", "versionnumber"),)
    eventid: Mapped[int] = mapped_column(ForeignKey("xevent.eventid"), primary_key=True)
    subsite: Mapped[str | None] = mapped_column(String(16))
    node: Mapped[str | None] = mapped_column(String(16))
    sensor: Mapped[str | None] = mapped_column(String(16))
    deploymentnumber: Mapped[int | None] = mapped_column(Integer)
    versionnumber: Mapped[int | None] = mapped_column(Integer)
    editphase: Mapped[str | None] = mapped_column(String(32))
    sassetid: Mapped[int | None] = mapped_column(ForeignKey("xinstrument.assetid"))

    __mapper_args__ = {"polymorphic_identity": "DEPLOYMENT"}
