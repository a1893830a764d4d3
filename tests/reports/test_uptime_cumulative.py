"""The stream report from the cumulative seconds of the history equals the window-function
statement: hand-worked histories, generated ones (rows written out of time order, silences,
windows around and inside the changes), the fill after a round and after the migration."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from alembic import command
from api.factories import deployed, expected, history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reports.test_uptime import ADCP, CTD, LATE, QUIET, SWITCHED, _at, _silence, histories  # noqa: F401
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from ooi_status import migrate
from ooi_status.model.monitor import StatusHistory, StatusLatest
from ooi_status.reports import uptime as uptime_module
from ooi_status.reports.uptime import (
    STATES,
    _cumulative_statement,
    fill_cumulative,
    round_hundredths,
    round_ms,
    uptime,
)

OP, DEG, FAIL, NT = "operational", "degraded", "failed", "notTracked"
STATES4 = (OP, DEG, FAIL, NT)


def _close(fast: list[dict], exact: list[dict]) -> None:
    """The same rows and the same numbers: the timestamps as epoch seconds are doubles on one grid
    (2^-22 s for 2004–2038) and every sum and difference of them either computation makes stays
    exact below 2^31 s, so the order of the additions does not matter (README, "Reports")."""
    assert fast == exact


def _names(row: dict) -> tuple:
    return tuple(row.get(key) for key in ("id", "refdes", "method", "stream", "site"))


def _unfilled(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(StatusHistory).where(StatusHistory.cum_operational.is_(None))
    )


_KEPT_COLUMNS = (
    "old_status",
    "new_status",
    "changed_at",
    *(f"cum_{s}" for s in ("operational", "degraded", "failed", "not_tracked")),
)


def _kept(session: Session) -> dict[int, tuple]:
    """status_latest: stream id -> (history id, its columns)."""
    return {
        row.deployed_stream_id: (row.history_id, *(getattr(row, c) for c in _KEPT_COLUMNS))
        for row in session.scalars(select(StatusLatest))
    }


def _latest_rows(session: Session) -> dict[int, tuple]:
    """Each stream's latest history row by (changed_at, id), as status_latest should hold it."""
    latest: dict[int, StatusHistory] = {}
    for row in session.scalars(select(StatusHistory).order_by(StatusHistory.changed_at, StatusHistory.id)):
        latest[row.deployed_stream_id] = row
    return {sid: (row.id, *(getattr(row, c) for c in _KEPT_COLUMNS)) for sid, row in latest.items()}


def _fast_ids(session: Session, start: datetime, stop: datetime) -> set[int]:
    """The streams the cumulative statement answers (the others: covered by a silence or unfilled)."""
    statement, params = _cumulative_statement(session, start, stop)
    return {row.sid for row in session.execute(statement, params) if not row.slow}


def test_hand_worked_histories_from_the_cumulative_seconds(monitor_db, histories, now: datetime) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(monitor_db.engine) as session:
        assert _fast_ids(session, _at(now, -10), now) == set()  # nothing filled yet: none
        assert fill_cumulative(session) == 15
        assert _unfilled(session) == 0 and fill_cumulative(session) == 0
        rows = uptime(session, _at(now, -10), now, "stream")
        _close(rows, uptime(session, _at(now, -10), now, "stream", cumulative=False))
        # Every stream but the silenced one is answered from the cumulative seconds.
        quiet = {row["id"] for row in rows if row["refdes"] == QUIET}
        assert _fast_ids(session, _at(now, -10), now) == {row["id"] for row in rows} - quiet
        hours = {row["refdes"] + row["stream"]: {k: row[k] / 3600 for k in STATES if row[k]} for row in rows}
        assert hours[ADCP + "ctdbp_no_sample"] == {OP: 6, FAIL: 4}
        assert hours[ADCP + "echo_sounding"] == {FAIL: 2, OP: 8}
        assert hours[CTD + "ctdbp_no_sample"] == {DEG: 10}
        assert hours[LATE + "ctdbp_no_sample"] == {NT: 6, OP: 4}
        assert hours[SWITCHED + "ctdbp_no_sample"] == {OP: 5, NT: 2, FAIL: 3}
        assert hours[QUIET + "ctdbp_no_sample"] == {OP: 4, "silenced": 6}
        for start, stop in ((-4.5, -3.5), (-50, -45), (-45, -35), (-0.5, 0)):
            _close(
                uptime(session, _at(now, start), _at(now, stop), "stream"),
                uptime(session, _at(now, start), _at(now, stop), "stream", cumulative=False),
            )


def test_a_row_written_out_of_order_is_filled_with_the_rows_after_it(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        stream = deployed(session, CTD, expected(session, "ctdbp_no_sample"), OP)
        history(session, stream, [(NT, OP, _at(now, -10)), (OP, FAIL, _at(now, -4))])
        fill_cumulative(session)
        history(session, stream, [(OP, DEG, _at(now, -8))])  # between the two: -4 h is wrong now
        assert fill_cumulative(session) == 2
        cumulative = session.execute(
            select(StatusHistory.cum_operational, StatusHistory.cum_degraded).order_by(
                StatusHistory.changed_at
            )
        ).all()
        expected_hours = [(0, 0), (2, 0), (2, 4)]  # SQLite's julianday: to some 10 µs
        assert [tuple(row) for row in cumulative] == [
            (pytest.approx(op * 3600, abs=1e-3), pytest.approx(deg * 3600, abs=1e-3))
            for op, deg in expected_hours
        ]
        (row,) = uptime(session, _at(now, -9), now, "stream")
        assert (row[OP], row[DEG], row[FAIL]) == (3600, 4 * 3600, 4 * 3600)  # to the millisecond


# --- generated histories -----------------------------------------------------------------------

REFDES = ("CE01ISSM-MFD35-04-ADCPTM000", "CE01ISSM-MFD37-03-CTDBPC000", "RS01SBPS-PC01A-4A-CTDPFA103")
#: Silences: a site, a node, an instrument (any method), one method or one stream of it.
PREFIXES = ("CE01ISSM", "CE01ISSM-MFD37", REFDES[0], REFDES[2])


def moments(backend: str) -> st.SearchStrategy[float]:
    """Hours from now, -40 h .. 4 h. SQLite's julianday keeps milliseconds: whole milliseconds
    there (the window statement orders its points by those, the history by the stored text);
    PostgreSQL keeps microseconds."""
    millis = st.integers(-40 * 3_600_000, 4 * 3_600_000) | st.sampled_from([-36e5, 0, -72e5, -18e6])
    if backend == "sqlite":
        return millis.map(lambda ms: ms / 3_600_000)
    return st.tuples(millis, st.integers(0, 999)).map(lambda m: (m[0] * 1000 + m[1]) / 3_600_000_000)


@st.composite
def fleets(draw: st.DrawFn, backend: str) -> dict:
    """Streams with changes (ties included) written in batches in any order of time, a fill after
    some batches; silences; a window. Times often come from a small pool: ties between changes,
    and window edges on a change."""
    pool = draw(st.lists(moments(backend), min_size=1, max_size=6))
    at = st.sampled_from(pool) | moments(backend)
    streams = []
    for n in range(draw(st.integers(1, 6))):
        times = draw(st.lists(at, max_size=7))
        statuses = draw(st.lists(st.sampled_from(STATES4), min_size=2 * len(times), max_size=2 * len(times)))
        changes = [(statuses[2 * i], statuses[2 * i + 1], h) for i, h in enumerate(times)]
        streams.append((draw(st.sampled_from(REFDES)), n, draw(st.sampled_from(STATES4)), changes))
    silences = draw(
        st.lists(
            st.tuples(st.sampled_from(PREFIXES), at, at, st.sampled_from([None, "streamed", "telemetered"])),
            max_size=2,
        )
    )
    start = draw(at)
    stop = draw(at.filter(lambda h: h != start))
    return {
        "streams": streams,
        "batches": draw(st.integers(1, 4)),
        "fill_between": draw(st.booleans()),
        "unfill": draw(st.booleans()),  # one stream's latest row unfilled again: the window statement
        "silences": silences,
        "window": (min(start, stop), max(start, stop)),
    }


def test_the_cumulative_seconds_give_what_the_window_statement_gives(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """For any history, written in any order, filled at any point, with streams left to the
    window statement (silenced, unfilled) or not: the report equals the window-function statement
    (cumulative=False), for every window."""

    @given(fleets(monitor_db.backend), st.randoms(use_true_random=False))
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def same(fleet: dict, random) -> None:  # type: ignore[no-untyped-def]
        with Session(monitor_db.engine) as session:
            names = [expected(session, f"stream_{n}") for n in range(6)]
            rows = []
            for refdes, n, status, changes in fleet["streams"]:
                stream = deployed(session, refdes, names[n], status)
                rows += [(stream, old, new, _at(now, hours)) for old, new, hours in changes]
            random.shuffle(rows)
            size = -(-len(rows) // fleet["batches"]) if rows else 1
            for first in range(0, len(rows), size):
                for stream, old, new, at in rows[first : first + size]:
                    history(session, stream, [(old, new, at)])
                if fleet["fill_between"]:
                    fill_cumulative(session)
            fill_cumulative(session)
            assert _unfilled(session) == 0
            assert _kept(session) == _latest_rows(session)
            unfilled = fleet["unfill"] and bool(rows)
            if unfilled:
                mine = StatusHistory.deployed_stream_id == rows[0][0].id
                latest = session.scalar(select(func.max(StatusHistory.id)).where(mine))
                session.execute(
                    update(StatusHistory).where(StatusHistory.id == latest).values(cum_operational=None)
                )
            for prefix, begin, end, method in fleet["silences"]:
                narrow = {} if method is None else {"method": method}
                _silence(session, now, prefix, min(begin, end), max(begin, end), **narrow)
            session.flush()
            start, stop = (_at(now, hours) for hours in fleet["window"])
            _close(
                uptime(session, start, stop, "stream"),
                uptime(session, start, stop, "stream", cumulative=False),
            )
            if not fleet["silences"]:  # then every stream but the unfilled one from the cumulative seconds
                assert len(_fast_ids(session, start, stop)) == len(fleet["streams"]) - unfilled
            session.rollback()

    same()


# --- the migration fills the rows it finds ------------------------------------------------------


def test_the_migration_fills_the_history_it_finds(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    config = migrate.alembic_config(monitor_db.engine.url.render_as_string(hide_password=False))
    command.downgrade(config, "20261201_coverage_longest_bin")
    try:
        with monitor_db.engine.begin() as conn:
            conn.execute(text("INSERT INTO reference_designator (id, name) VALUES (1, :r)"), {"r": CTD})
            conn.execute(
                text(
                    "INSERT INTO expected_stream"
                    " (id, name, method, expected_rate, warn_interval, fail_interval)"
                    " VALUES (1, 'ctdbp_no_sample', 'streamed', 0, 600, 1800)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO deployed_stream (id, reference_designator_id, expected_stream_id, status)"
                    " VALUES (1, 1, 1, 'failed')"
                )
            )
            for ident, old, new, hours in (
                (1, NT, OP, -10),
                (2, OP, DEG, -4),
                (3, DEG, FAIL, -1),
                (4, OP, DEG, -6),
            ):
                conn.execute(
                    text(
                        "INSERT INTO status_history"
                        " (id, deployed_stream_id, old_status, new_status, changed_at)"
                        " VALUES (:i, 1, :o, :n, :t)"
                    ),
                    {"i": ident, "o": old, "n": new, "t": _stored(monitor_db.backend, _at(now, hours))},
                )
        command.upgrade(config, "head")
        with Session(monitor_db.engine) as session:
            assert _unfilled(session) == 0
            assert _kept(session) == _latest_rows(session) and _kept(session)[1][0] == 3
            filled = session.execute(
                select(StatusHistory.id, StatusHistory.cum_operational, StatusHistory.cum_degraded).order_by(
                    StatusHistory.id
                )
            ).all()
            # -10 op, -6 degraded, -4 degraded (again), -1 failed; hours (SQLite: to some 10 µs).
            hours = [(1, 0, 0), (2, 4, 2), (3, 4, 5), (4, 4, 0)]
            assert [tuple(row) for row in filled] == [
                (ident, pytest.approx(op * 3600, abs=1e-3), pytest.approx(deg * 3600, abs=1e-3))
                for ident, op, deg in hours
            ]
            assert _fast_ids(session, _at(now, -12), now) == {1}
            _close(
                uptime(session, _at(now, -12), now, "stream"),
                uptime(session, _at(now, -12), now, "stream", cumulative=False),
            )
            # Unfilled again (as before the fill ran): the window statement answers.
            session.execute(update(StatusHistory).where(StatusHistory.id == 3).values(cum_operational=None))
            assert _fast_ids(session, _at(now, -12), now) == set()
            session.rollback()
    finally:
        command.upgrade(config, "head")


def _stored(backend: str, at: datetime) -> object:
    """A timestamp as the UTCDateTime column stores it."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if backend == "sqlite" else at


@pytest.mark.usefixtures("histories")
def test_with_many_slow_streams_the_window_statement_answers_every_one(
    monitor_db, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Past _MAX_SLOW streams the cumulative seconds cannot answer (a bulk load not filled yet),
    one window statement answers them all rather than a list of that many ids."""
    monkeypatch.setattr(uptime_module, "_MAX_SLOW", 0)  # the silenced stream is one too many
    with Session(monitor_db.engine) as session:
        fill_cumulative(session)
        exact = uptime(session, _at(now, -10), now, "stream", cumulative=False)
        seen: list[str] = []
        listener = lambda _conn, _cursor, statement, *rest: seen.append(statement)  # noqa: E731
        event.listen(monitor_db.engine, "before_cursor_execute", listener)
        try:
            assert uptime(session, _at(now, -10), now, "stream") == exact
        finally:
            event.remove(monitor_db.engine, "before_cursor_execute", listener)
        assert seen and not any("WHERE ds.id IN" in statement for statement in seen)  # no list of ids


# --- status_latest: each stream's latest row, read instead of a probe -----------------------------


def test_status_latest_holds_each_streams_latest_row_and_answers_windows_after_it(
    monitor_db, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        stream = deployed(session, CTD, expected(session, "ctdbp_no_sample"), FAIL)
        history(session, stream, [(NT, OP, _at(now, -10)), (OP, FAIL, _at(now, -4))])
        fill_cumulative(session)
        history(session, stream, [(OP, DEG, _at(now, -8))])  # out of order: the latest row's seconds move
        fill_cumulative(session)
        assert _kept(session) == _latest_rows(session)
        (kept,) = session.scalars(select(StatusLatest)).all()
        assert kept.new_status == FAIL and kept.cum_degraded == pytest.approx(4 * 3600, abs=1e-3)
        exact = uptime(session, _at(now, -9), now, "stream", cumulative=False)
        assert uptime(session, _at(now, -9), now, "stream") == exact
        # A window ending after the latest row takes the stream's seconds at its end from
        # status_latest (no probe of the history): on PostgreSQL its values, so a value written
        # there shows in the answer; SQLite reads the row it names by its key.
        kept.cum_degraded += 3600.0
        session.flush()
        (row,) = uptime(session, _at(now, -9), now, "stream")
        assert row[DEG] == exact[0][DEG] + (3600 if monitor_db.backend == "postgresql" else 0)
        # A window ending before the latest row probes the history: status_latest is not read.
        assert uptime(session, _at(now, -9), _at(now, -5), "stream") == uptime(
            session, _at(now, -9), _at(now, -5), "stream", cumulative=False
        )
        session.rollback()


def test_deleting_the_latest_history_row_deletes_its_status_latest_row(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        stream = deployed(session, CTD, expected(session, "ctdbp_no_sample"), FAIL)
        history(session, stream, [(NT, OP, _at(now, -10)), (OP, FAIL, _at(now, -4))])
        fill_cumulative(session)
        latest = session.scalar(select(StatusLatest.history_id))
        session.execute(StatusHistory.__table__.delete().where(StatusHistory.id == latest))
        session.expire_all()
        assert _kept(session) == {}  # the report probes the history again
        assert uptime(session, _at(now, -12), now, "stream") == uptime(
            session, _at(now, -12), now, "stream", cumulative=False
        )
        session.rollback()


# --- round_ms: Python's round(x, 3), computed over arrays -------------------------------------------


@given(st.lists(st.integers(0, 2**52), max_size=30))
def test_round_ms_of_values_on_the_grid_is_pythons_round(numerators: list[int]) -> None:
    values = [m / 2**22 for m in numerators] + [0.0625, 0.1875, 2.0625, 0.0]  # exact ties: to even
    assert round_ms(np.array(values)).tolist() == [round(value, 3) for value in values]


@given(st.lists(st.floats(0, 1e9, allow_nan=False), max_size=30))
def test_round_ms_of_any_value_is_pythons_round(values: list[float]) -> None:
    assert round_ms(np.array(values)).tolist() == [round(value, 3) for value in values]


# --- round_hundredths: Python's round(x, 2) of the uptime percentages, over arrays ---------------


@given(
    st.lists(st.integers(0, 10**6), max_size=30), st.lists(st.floats(-1e7, 1e7, allow_nan=False), max_size=30)
)
def test_round_hundredths_is_pythons_round(thousandths: list[int], values: list[float]) -> None:
    """Shares of a second to the millisecond, halves of hundredths (exact ties and the doubles
    next to them), and any value (|x| of 2^20 and more: Python's round itself)."""
    halves = [(2 * k + 1) / 200 for k in range(0, 20001, 37)]
    close = [float(np.nextafter(h, side)) for h in halves for side in (0.0, 200.0)]
    values = [k / 1000 for k in thousandths] + halves + close + values + [0.125, 0.375, 2.675, 1.005, 100.0]
    assert round_hundredths(np.array(values)).tolist() == [round(value, 2) for value in values]


def test_the_rows_come_in_pythons_order_of_names(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """The statement orders the rows (code points, as Python orders str), whatever the
    database's collation would say of case, accents and punctuation."""
    names = ["ab", "a_b", "A_c", "Zeta", "éclair", "a-b", "b"]
    with Session(monitor_db.engine) as session:
        for n, name in enumerate(names):
            stream = deployed(
                session, CTD if n % 2 else "ce01issm-mfd35-04-adcptm000", expected(session, name), OP
            )
            history(session, stream, [(NT, OP, _at(now, -5))])
        fill_cumulative(session)
        rows = uptime(session, _at(now, -10), now, "stream")
        assert len(rows) == len(names)
        named = [(row["refdes"], row["method"], row["stream"]) for row in rows]
        assert named == sorted(named) and named[0][0] == CTD and named[-1][2] == "éclair"
        assert rows == uptime(session, _at(now, -10), now, "stream", cumulative=False)
        session.rollback()
