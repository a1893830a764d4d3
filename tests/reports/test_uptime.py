"""Uptime from hand-worked status histories: window edges, streams created late, silences,
disabled periods, and the instrument, node and site rollups (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from api.factories import deployed, expected, history
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ooi_status.model.monitor import Silence
from ooi_status.reports.uptime import uptime, uptime_percent

H = 3600.0
OP, DEG, FAIL, NT = "operational", "degraded", "failed", "notTracked"
ADCP = "CE01ISSM-MFD35-04-ADCPTM000"
CTD = "CE01ISSM-MFD37-03-CTDBPC000"
LATE = "CE02SHBP-LJ01D-06-CTDBPN106"
SWITCHED = "CE04OSPS-SF01B-2A-CTDPFA107"
QUIET = "RS01SBPS-PC01A-4A-CTDPFA103"


def _at(now: datetime, hours: float) -> datetime:
    return now + timedelta(hours=hours)


def _changes(now: datetime, *changes: tuple[str, str, float]) -> list[tuple[str, str, datetime]]:
    return [(old, new, _at(now, hours)) for old, new, hours in changes]


def _silence(session: Session, now: datetime, refdes: str, start: float, stop: float, **narrow: str) -> None:
    session.add(
        Silence(
            refdes=refdes, starts_at=_at(now, start), ends_at=_at(now, stop), reason="maintenance",
            created_by="ops", created_at=_at(now, -48), **narrow,
        )
    )  # fmt: skip


@pytest.fixture
def histories(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """The window is the last 10 hours: [now - 10 h, now)."""
    with Session(monitor_db.engine) as session, session.begin():
        sample = expected(session, "ctdbp_no_sample")
        echo = expected(session, "echo_sounding")
        # op from -20 h, failed -6 h .. -2 h: op 6 h, failed 4 h.
        a = deployed(session, ADCP, sample, "operational")
        history(session, a, _changes(now, (NT, OP, -20), (OP, FAIL, -6), (FAIL, OP, -2)))
        # The instrument's second stream: failed until -8 h.
        a2 = deployed(session, ADCP, echo, "operational")
        history(
            session, a2, [("notTracked", "failed", _at(now, -30)), ("failed", "operational", _at(now, -8))]
        )
        # Changes exactly at the window's start (counts) and at its stop (outside).
        b = deployed(session, CTD, sample, "operational")
        history(session, b, _changes(now, (NT, OP, -30), (OP, DEG, -10), (DEG, OP, 0)))
        # Created 4 h ago: notTracked before.
        c = deployed(session, LATE, sample, "operational")
        history(session, c, _changes(now, (NT, OP, -4)))
        # Disabled from -5 h to -3 h (the round records notTracked), then failed.
        d = deployed(session, SWITCHED, sample, "failed")
        history(session, d, _changes(now, (NT, OP, -40), (OP, NT, -5), (NT, FAIL, -3)))
        # Failed -8 h .. -4 h under two overlapping silences -9 h .. -5 h and -6 h .. -3 h.
        e = deployed(session, QUIET, sample, "operational")
        history(session, e, _changes(now, (NT, OP, -40), (OP, FAIL, -8), (FAIL, OP, -4)))
        _silence(session, now, "RS01SBPS-PC01A", -9, -5)
        _silence(session, now, QUIET, -6, -3, method="streamed")
        # Not covering: another method, another stream, a prefix that is not a whole part, the past.
        _silence(session, now, QUIET, -10, 0, method="telemetered")
        _silence(session, now, QUIET, -10, 0, stream="echo_sounding")
        _silence(session, now, "RS01", -10, 0)
        _silence(session, now, "RS01SBPS", -30, -10)


def _by(rows: list[dict], **key: str) -> dict:
    (found,) = [row for row in rows if all(row[k] == v for k, v in key.items())]
    return found


def _seconds(row: dict) -> dict[str, float]:
    return {k: row[k] / H for k in ("operational", "degraded", "failed", "notTracked", "silenced") if row[k]}


def test_stream_uptime_of_hand_worked_histories(monitor_db, histories, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        rows = uptime(session, _at(now, -10), now, "stream")
    assert len(rows) == 6
    a = _by(rows, refdes=ADCP, stream="ctdbp_no_sample")
    assert _seconds(a) == {"operational": 6, "failed": 4}
    assert a["uptime_percent"] == 60.0
    assert _seconds(_by(rows, refdes=ADCP, stream="echo_sounding")) == {"failed": 2, "operational": 8}
    b = _by(rows, refdes=CTD)
    assert _seconds(b) == {"degraded": 10} and b["uptime_percent"] == 0.0
    c = _by(rows, refdes=LATE)
    assert _seconds(c) == {"notTracked": 6, "operational": 4} and c["uptime_percent"] == 100.0
    d = _by(rows, refdes=SWITCHED)
    assert _seconds(d) == {"operational": 5, "notTracked": 2, "failed": 3}
    assert d["uptime_percent"] == 62.5
    e = _by(rows, refdes=QUIET)
    assert _seconds(e) == {"operational": 4, "silenced": 6} and e["uptime_percent"] == 100.0
    assert (e["method"], e["stream"]) == ("streamed", "ctdbp_no_sample")


def test_instrument_uptime_is_the_time_its_rollup_was_operational(
    monitor_db, histories, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        rows = uptime(session, _at(now, -10), now, "instrument")
    assert [row["refdes"] for row in rows] == sorted([ADCP, CTD, LATE, SWITCHED, QUIET])
    # ADCP: failed -10..-8 (echo), op -8..-6, failed -6..-2 (sample), op -2..0.
    adcp = _by(rows, refdes=ADCP)
    assert _seconds(adcp) == {"failed": 6, "operational": 4} and adcp["uptime_percent"] == 40.0
    assert _seconds(_by(rows, refdes=QUIET)) == {"operational": 4, "silenced": 6}
    assert _seconds(_by(rows, refdes=LATE)) == {"notTracked": 6, "operational": 4}


def test_sites_and_nodes_add_up_their_instruments(monitor_db, histories, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        sites = uptime(session, _at(now, -10), now, "site")
        nodes = uptime(session, _at(now, -10), now, "node")
    ce01 = _by(sites, site="CE01ISSM")
    # ADCP op 4, failed 6; CTD degraded 10.
    assert ce01["instruments"] == 2
    assert _seconds(ce01) == {"operational": 4, "failed": 6, "degraded": 10}
    assert ce01["uptime_percent"] == 20.0
    assert [row["node"] for row in nodes] == [
        "CE01ISSM-MFD35", "CE01ISSM-MFD37", "CE02SHBP-LJ01D", "CE04OSPS-SF01B", "RS01SBPS-PC01A",
    ]  # fmt: skip


def test_a_window_inside_one_status(monitor_db, histories, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session:
        rows = uptime(session, _at(now, -4.5), _at(now, -3.5), "stream")
    assert _seconds(_by(rows, refdes=ADCP, stream="ctdbp_no_sample")) == {"failed": 1}
    assert _seconds(_by(rows, refdes=SWITCHED)) == {"notTracked": 1}
    assert _by(rows, refdes=SWITCHED)["uptime_percent"] is None
    assert _seconds(_by(rows, refdes=QUIET)) == {"silenced": 1}


def test_a_stream_without_history_keeps_its_status(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session, session.begin():
        deployed(session, CTD, expected(session, "ctdbp_no_sample"), "operational")
    with Session(monitor_db.engine) as session:
        (row,) = uptime(session, _at(now, -1), now, "stream")
    assert _seconds(row) == {"operational": 1}


def test_unknown_group_is_refused(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session, pytest.raises(ValueError, match="group"):
        uptime(session, _at(now, -1), now, "fleet")


@pytest.mark.parametrize(
    ("seconds", "percent"),
    [
        ({"operational": 0, "degraded": 0, "failed": 0}, None),
        ({"operational": 3, "degraded": 1, "failed": 0}, 75.0),
        ({"operational": 1, "degraded": 1, "failed": 1}, 33.33),
    ],
)
def test_uptime_percent(seconds: dict[str, float], percent: float | None) -> None:
    assert uptime_percent(seconds) == percent


# --- without silences: the plain statement ------------------------------------------------------

STATES4 = (OP, DEG, FAIL, NT)
REFDES = (ADCP, CTD, LATE)


@st.composite
def fleet_histories(draw: st.DrawFn) -> list[tuple[str, int, str, list[tuple[str, str, float]]]]:
    """Streams (refdes, expected stream, current status, changes at hours from now), changes in
    any order of time, ties included."""
    streams = []
    for n in range(draw(st.integers(1, 5))):
        hours = draw(st.lists(st.integers(-30, 2).map(float) | st.floats(-30, 2), max_size=8))
        statuses = draw(st.lists(st.sampled_from(STATES4), min_size=len(hours) * 2, max_size=len(hours) * 2))
        changes = [(statuses[2 * i], statuses[2 * i + 1], h) for i, h in enumerate(hours)]
        streams.append((draw(st.sampled_from(REFDES)), n, draw(st.sampled_from(STATES4)), changes))
    return streams


def _write_fleet(session: Session, streams, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """The streams of ``fleet_histories`` and their history rows (not committed)."""
    names = [expected(session, f"stream_{n}") for n in range(5)]
    for refdes, n, status, changes in streams:
        history(session, deployed(session, refdes, names[n], status), _changes(now, *changes))


def test_without_silences_the_plain_statement_equals_the_general_one(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """When no silence overlaps the window the report runs the plain statement (one pass); it
    answers exactly what the general one (silence edges and all) answers, for any history."""

    @given(fleet_histories(), st.floats(-26, 1), st.floats(0.5, 26))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def same(streams, start_hours: float, length: float) -> None:  # type: ignore[no-untyped-def]
        with Session(monitor_db.engine) as session:
            _write_fleet(session, streams, now)
            start, stop = _at(now, start_hours), _at(now, start_hours + length)
            for group in ("stream", "instrument", "site"):
                plain = uptime(session, start, stop, group, silences=False)
                general = uptime(session, start, stop, group, silences=True)
                assert plain == general
                assert uptime(session, start, stop, group) == plain  # no silence: the plain one
            session.rollback()

    same()


def _rollup_by_hand(session: Session, start: datetime, stop: datetime) -> dict[str, dict[str, float]]:
    """Each instrument's seconds per rolled-up state over [start, stop), worked out from the rows
    one segment at a time: between two consecutive change times of its streams, each stream is in
    the new status of its latest row at or before the segment's start (by time, then id), the old
    status of its first row before any, its current status without history; the instrument is in
    the worst of them (failed > degraded > operational > notTracked)."""
    from ooi_status.model.monitor import DeployedStream, ReferenceDesignator, StatusHistory

    rank = {FAIL: 3, DEG: 2, OP: 1, NT: 0}
    rows: dict[int, list[tuple[datetime, int, str, str]]] = {}
    for h in session.query(StatusHistory).all():
        rows.setdefault(h.deployed_stream_id, []).append((h.changed_at, h.id, h.old_status, h.new_status))
    streams: dict[str, list[tuple[str, list[tuple[datetime, int, str, str]]]]] = {}
    for ds, name in session.query(DeployedStream, ReferenceDesignator.name).join(ReferenceDesignator).all():
        streams.setdefault(name, []).append((ds.status, sorted(rows.get(ds.id, []))))

    def state_at(current: str, changes: list[tuple[datetime, int, str, str]], moment: datetime) -> str:
        before = [change for change in changes if change[0] <= moment]
        if before:
            return before[-1][3]
        return changes[0][2] if changes else current

    found = {}
    for name, members in streams.items():
        cuts = sorted({start} | {c[0] for _, changes in members for c in changes if start < c[0] < stop})
        seconds = dict.fromkeys((OP, DEG, FAIL, NT), 0.0)
        for begin, end in zip(cuts, [*cuts[1:], stop], strict=True):
            worst = max((state_at(current, changes, begin) for current, changes in members), key=rank.get)
            seconds[worst] += (end - begin).total_seconds()
        found[name] = seconds
    return found


def test_instrument_rollups_equal_the_rollup_worked_out_by_hand(monitor_db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """For any histories (ties at one time within a stream and across streams included), the
    instrument statement gives each instrument the seconds the segment-by-segment rollup gives.
    On SQLite the statement's times are milliseconds (``julianday``): two changes of one stream
    less than a millisecond apart may be ordered otherwise there (the module's docstring), so
    such histories are left to PostgreSQL."""

    @given(fleet_histories(), st.floats(-26, 1), st.floats(0.5, 26))
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def same(streams, start_hours: float, length: float) -> None:  # type: ignore[no-untyped-def]
        if monitor_db.backend == "sqlite":
            for *_, changes in streams:
                moments = sorted({_at(now, hours) for *_, hours in changes})
                assume(all(b - a >= timedelta(milliseconds=1) for a, b in itertools.pairwise(moments)))
        with Session(monitor_db.engine) as session:
            _write_fleet(session, streams, now)
            start, stop = _at(now, start_hours), _at(now, start_hours + length)
            by_hand = _rollup_by_hand(session, start, stop)
            rows = uptime(session, start, stop, "instrument")
            assert sorted(row["refdes"] for row in rows) == sorted(by_hand)
            for row in rows:
                for state, seconds in by_hand[row["refdes"]].items():
                    assert row[state] == pytest.approx(seconds, abs=0.002), (row["refdes"], state)
                assert row["silenced"] == 0
            session.rollback()

    same()
