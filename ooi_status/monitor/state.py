"""The monitor schema as a check round sees it: read in three queries, created where new.

Instruments and expected streams seen for the first time are inserted before the round
evaluates anything (new expected streams with zero intervals: not tracked, logged once, when
they are created); deployed streams are inserted by the round itself, with their first status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import FromClause, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator
from ooi_status.status import Status

log = logging.getLogger("ooi_status.monitor.check")

_RD = ReferenceDesignator.__table__
_ES = ExpectedStream.__table__
_DS = DeployedStream.__table__


class ExpectedRow(NamedTuple):
    """An expected stream's id and default intervals (columns of expected_stream, by name)."""

    id: int
    expected_rate: float
    warn_interval: int
    fail_interval: int


class DeployedRow(NamedTuple):
    """What a round reads of a deployed stream (columns of deployed_stream, by name):
    overrides, status and bookkeeping."""

    id: int | None  # None: not stored yet (FIRST_SEEN)
    expected_rate: float | None
    warn_interval: int | None
    fail_interval: int | None
    status: str
    last_data_time: datetime | None
    particle_count: int | None
    rate_base_count: int | None
    rate_base_time: datetime | None
    measured_rate: float | None


#: The stored values of a stream seen for the first time.
FIRST_SEEN = DeployedRow(
    id=None, expected_rate=None, warn_interval=None, fail_interval=None, status=Status.NOT_TRACKED.value,
    last_data_time=None, particle_count=None, rate_base_count=None, rate_base_time=None,
    measured_rate=None,
)  # fmt: skip


@dataclass
class MonitorState:
    refdes_ids: dict[str, int]
    expected: dict[tuple[str, str], ExpectedRow]  # by (name, method)
    deployed: dict[tuple[int, int], DeployedRow]  # by (reference designator id, expected stream id)
    created_instruments: int = 0
    created_expected: int = 0

    @classmethod
    def load(
        cls, session: Session, instruments: set[str], expected_keys: set[tuple[str, str]]
    ) -> MonitorState:
        """Every row, after creating the instruments and (name, method) expected streams not there yet."""
        refdes_ids, new_instruments = _ensure_instruments(session, instruments)
        expected, new_expected = _ensure_expected(session, expected_keys)
        return cls(refdes_ids, expected, _deployed_rows(session), new_instruments, new_expected)


def _ensure_instruments(session: Session, names: set[str]) -> tuple[dict[str, int], int]:
    known = dict(session.execute(select(_RD.c.name, _RD.c.id)).all())
    new = sorted(names - known.keys())
    if new:
        session.execute(insert(_RD), [{"name": name} for name in new])
        known = dict(session.execute(select(_RD.c.name, _RD.c.id)).all())
        log.info("%d new instrument(s): %s", len(new), _sample(new))
    return known, len(new)


def _expected_rows(session: Session) -> dict[tuple[str, str], ExpectedRow]:
    query = select(_ES.c.name, _ES.c.method, *_columns(_ES, ExpectedRow._fields))
    make = ExpectedRow._make
    return {(name, method): make(values) for name, method, *values in session.execute(query)}


def _ensure_expected(
    session: Session, keys: set[tuple[str, str]]
) -> tuple[dict[tuple[str, str], ExpectedRow], int]:
    known = _expected_rows(session)
    new = sorted(keys - known.keys())
    if new:
        rows = [
            {"name": name, "method": method, "expected_rate": 0.0, "warn_interval": 0, "fail_interval": 0}
            for name, method in new
        ]
        session.execute(insert(_ES), rows)
        known = _expected_rows(session)
        log.info(
            "%d new expected stream(s), not tracked until their intervals are set: %s",
            len(new),
            _sample(f"{method} {name}" for name, method in new),
        )
    return known, len(new)


def _deployed_rows(session: Session) -> dict[tuple[int, int], DeployedRow]:
    c = _DS.c
    query = select(c.reference_designator_id, c.expected_stream_id, *_columns(_DS, DeployedRow._fields))
    make = DeployedRow._make
    return {(refdes, expected): make(values) for refdes, expected, *values in session.execute(query)}


def _columns(table: FromClause, names: Iterable[str]) -> list[KeyedColumnElement[Any]]:
    """The columns of ``table`` named like the fields of a row type, in the fields' order: the
    rows of a select of them are made into that type by position, whatever the table's order."""
    return [table.c[name] for name in names]


def _sample(items: Iterable[str], most: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
