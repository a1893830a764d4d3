"""The monitor schema as a check round sees it: read in three queries, created where new.

Instruments and expected streams seen for the first time are inserted before the round
evaluates anything (new expected streams with zero intervals: not tracked, logged once, when
they are created); deployed streams are inserted by the round itself, with their first status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator

log = logging.getLogger("ooi_status.monitor.check")

_RD = ReferenceDesignator.__table__
_ES = ExpectedStream.__table__
_DS = DeployedStream.__table__


@dataclass
class MonitorState:
    refdes_ids: dict[str, int]
    expected: dict[tuple[str, str], Any]  # (name, method) → (id, rate, warn, fail)
    deployed: dict[tuple[int, int], Any]  # (refdes id, expected id) → row of _deployed_rows
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


def _expected_rows(session: Session) -> dict[tuple[str, str], Any]:
    c = _ES.c
    query = select(c.name, c.method, c.id, c.expected_rate, c.warn_interval, c.fail_interval)
    return {(row[0], row[1]): row[2:] for row in session.execute(query)}


def _ensure_expected(session: Session, keys: set[tuple[str, str]]) -> tuple[dict[tuple[str, str], Any], int]:
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


def _deployed_rows(session: Session) -> dict[tuple[int, int], Any]:
    c = _DS.c
    query = select(
        c.id, c.expected_rate, c.warn_interval, c.fail_interval, c.status, c.last_data_time, c.particle_count,
        c.rate_base_count, c.rate_base_time, c.measured_rate, c.reference_designator_id, c.expected_stream_id,
    )  # fmt: skip
    return {(row[10], row[11]): row for row in session.execute(query)}


def _sample(items: Iterable[str], most: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
