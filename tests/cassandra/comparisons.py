"""The equalities between the PostgreSQL reader and the Cassandra reader, shared by the responder
tests (test_equivalence.py) and the live-cluster tests (test_live_cluster.py): the rows each
reader returns, the statuses and events of a monitor round over each, and /available from an
app on each.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status import demo
from ooi_status.api import create_app
from ooi_status.config import Settings
from ooi_status.db import make_engine
from ooi_status.model.monitor import DeployedStream, ExpectedStream, PendingUpdate, ReferenceDesignator
from ooi_status.monitor.check import MonitorSource, run_round
from ooi_status.monitor.expected import read_expected_csv, upsert_expected
from ooi_status.sources.base import StreamSource
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import datetime_to_ntp


def as_multiset(rows: Any) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(row) for row in rows)


def as_lists(bins: dict[Any, Any]) -> dict[Any, list[tuple[Any, ...]]]:
    return {key: [tuple(row) for row in rows] for key, rows in bins.items()}


# --- the readers --------------------------------------------------------------------------------


def assert_same_streams(postgres: StreamSource, cassandra: StreamSource, obs: demo.Observatory) -> None:
    refdes = obs.refdes_list()
    for methods, instruments in [
        (None, None),
        (demo.MONITORED, None),
        (None, refdes[:4]),
        (["recovered_host", "telemetered"], [*refdes[2:9], "malformed", "NO-SUCH-THING"]),
        ([], None),
        (None, []),
    ]:
        expected = as_multiset(postgres.streams(methods, instruments))
        assert as_multiset(cassandra.streams(methods, instruments)) == expected, (methods, instruments)
    assert sum(as_multiset(postgres.streams()).values()) == len(obs.streams)


def assert_same_bins(
    postgres: StreamSource, cassandra: StreamSource, obs: demo.Observatory, now: datetime
) -> None:
    """Every instrument, all its streams and one unknown, over whole, recent, cut and empty windows."""
    end = datetime_to_ntp(now)
    windows = [(0.0, 1e10), (end - 30 * 86_400, end), (end - 400 * 86_400 + 0.5, end - 200 * 86_400 - 0.5)]
    for refdes in obs.refdes_list():
        keys = [(row.method, row.stream) for row in postgres.streams(refdes=[refdes])]
        keys.append(("streamed", "no_such_stream"))
        for start, stop in [*windows, (end, end - 1)]:
            expected = as_lists(postgres.bins(refdes, keys, start, stop))
            assert as_lists(cassandra.bins(refdes, keys, start, stop)) == expected, (refdes, start, stop)
        assert postgres.bins(refdes, keys, 0.0, 1e10)  # the scenario has bins to compare


# --- what the monitor and the API make of them --------------------------------------------------


def monitor_round(
    source: StreamSource, deployments: PostgresDeploymentSource, url: str, settings: Settings, now: datetime
) -> tuple[Any, Any]:
    """One check round reading ``source``, into the monitor database at ``url``: (statuses, events)."""
    engine = make_engine(url, settings)
    with Session(engine) as session:
        expected = read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        upsert_expected(session, expected)
        session.commit()
        run_round(MonitorSource(source, deployments), session, now, settings)
        session.commit()
        statuses = session.execute(
            select(
                ReferenceDesignator.name, ExpectedStream.method, ExpectedStream.name, DeployedStream.status
            )
            .join(DeployedStream.reference_designator)
            .join(DeployedStream.expected_stream)
        ).all()
        events = session.scalars(select(PendingUpdate.message)).all()
    engine.dispose()
    return sorted(statuses), sorted(map(repr, events))


def assert_same_monitor_statuses(
    postgres: PostgresStreamSource,
    cassandra: StreamSource,
    template: Path,
    folder: Path,
    settings: Settings,
    now: datetime,
) -> None:
    """A first round on two fresh monitor databases (copies of the migrated ``template``)."""
    deployments = PostgresDeploymentSource(postgres.engine)
    results = []
    for name, reader in (("postgres", postgres), ("cassandra", cassandra)):
        path = folder / f"monitor-{name}.sqlite"
        shutil.copy(template, path)
        results.append(monitor_round(reader, deployments, f"sqlite:///{path}", settings, now))
    (statuses, events), (cassandra_statuses, cassandra_events) = results
    assert {status for *_, status in statuses} - {"notTracked"}  # the round found real statuses
    assert cassandra_statuses == statuses
    assert cassandra_events == events


def assert_same_available(
    postgres_settings: Settings, cassandra_settings: Settings, obs: demo.Observatory, now: datetime
) -> None:
    """/available of every instrument (and two unknown ones) from an app on each source."""
    postgres_app, cassandra_app = create_app(postgres_settings), create_app(cassandra_settings)
    # Windows ending before the real clock: no answer depends on when it is computed.
    stop = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    queries = ["", "&method=streamed", "&method=telemetered&start_time=2026-01-01", "&method=recovered_host"]
    for refdes in [*obs.refdes_list(), "NO-SUCH-INSTRUMENT", "malformed"]:
        for query in queries:
            url = f"/available/{refdes}?stop_time={stop}{query}"
            expected = postgres_app.test_client().get(url)
            answer = cassandra_app.test_client().get(url)
            assert (answer.status_code, answer.get_data()) == (expected.status_code, expected.get_data()), url
