"""/metrics: Prometheus text format, from a registry owned by each app (never the global one).

Two kinds of figures:
- read from the monitor database at scrape time (streams per status, instruments per
  rollup status, each instrument's status, each stream's data age, the monitor's last
  rounds, the outbox), one query per family: the same from every worker;
- counted by the processes serving requests (HTTP requests and their latency). Under
  gunicorn started with ooi_status.gunicorn_conf (run_gunicorn.sh, the demo), every worker
  writes its counts to PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and
  each scrape, whichever worker answers it, adds up all workers, past and present: the
  figures are the whole server's and a series never disappears. Without that variable (one
  process, tests) the counts are this process's.
If the monitor database does not answer, the scrape still succeeds: ``ooi_status_database_up``
is 0 and the database figures are left out.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter as Tally
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status import port_store
from ooi_status.db import Databases, first_line
from ooi_status.model.monitor import (
    DEAD,
    DELIVERED,
    PENDING,
    DeployedStream,
    ExpectedStream,
    MonitorHeartbeat,
    PendingUpdate,
    ReferenceDesignator,
    sink_kind,
)
from ooi_status.port_counts import REASONS
from ooi_status.status import Status, rollup
from ooi_status.times import utcnow

log = logging.getLogger(__name__)

STATUSES = [status.value for status in Status]
OUTBOX_STATES = (PENDING, DELIVERED, DEAD)
MESSAGE_KINDS = ("events", "webhook", "email", "chat")
MESSAGE_STATES = ("sent", "failed", "dead", "pending")
#: Set (before the process starts) to a writable directory: HTTP figures of all processes add up.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class MonitorCollector:
    """Figures read from the monitor database at each scrape."""

    def __init__(self, databases: Databases, stream_data_age: bool = True) -> None:
        self.databases = databases
        self.stream_data_age = stream_data_age

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("ooi_status_database_up", "1 when the monitor database answered this scrape")
        try:
            families = list(self._families(utcnow()))
        except SQLAlchemyError as exc:
            log.warning("metrics: monitor database unavailable: %s", first_line(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, now: datetime) -> Iterator[Metric]:
        with Session(self.databases.monitor) as session:
            yield self._streams(session)
            yield from self._instruments(session)
            if self.stream_data_age:
                yield self._data_age(session, now)
            yield from self._rounds(session, now)
            yield self._outbox(session)
            yield self._messages(session)
            yield self._port_stats_rejected(session)

    def _streams(self, session: Session) -> Metric:
        counts = dict(
            session.execute(select(DeployedStream.status, func.count()).group_by(DeployedStream.status)).all()
        )
        family = GaugeMetricFamily("ooi_status_streams", "Deployed streams per status", labels=["status"])
        for status in STATUSES:
            family.add_metric([status], counts.get(status, 0))
        return family

    def _instruments(self, session: Session) -> Iterator[Metric]:
        # One pass over (instrument, status) pairs; the rollup rule stays in ooi_status.status.
        pairs = session.execute(
            select(ReferenceDesignator.name, DeployedStream.status)
            .join(DeployedStream.reference_designator)
            .distinct()
        ).all()
        statuses: dict[str, list[str]] = {}
        for refdes, status in pairs:
            statuses.setdefault(refdes, []).append(status)
        rolled = {refdes: rollup(items).value for refdes, items in sorted(statuses.items())}
        counts = Tally(rolled.values())
        family = GaugeMetricFamily(
            "ooi_status_instruments", "Instruments per rollup status", labels=["status"]
        )
        for status in STATUSES:
            family.add_metric([status], counts.get(status, 0))
        yield family
        each = GaugeMetricFamily(
            "ooi_status_instrument_status",
            "1 for the instrument's rollup status, 0 for the others",
            labels=["refdes", "status"],
        )
        for refdes, current in rolled.items():
            for status in STATUSES:
                each.add_metric([refdes, status], 1 if status == current else 0)
        yield each

    def _data_age(self, session: Session, now: datetime) -> Metric:
        rows = session.execute(
            select(
                ReferenceDesignator.name,
                ExpectedStream.method,
                ExpectedStream.name,
                DeployedStream.last_data_time,
            )  # fmt: skip
            .join(DeployedStream.reference_designator)
            .join(DeployedStream.expected_stream)
            .where(DeployedStream.last_data_time.is_not(None))
            .order_by(ReferenceDesignator.name, ExpectedStream.method, ExpectedStream.name)
        ).all()
        family = GaugeMetricFamily(
            "ooi_status_stream_data_age_seconds",
            "Seconds since the stream's last data, as of the monitor's last check (METRICS_STREAM_DATA_AGE)",
            labels=["refdes", "method", "stream"],
        )
        for refdes, method, stream, last in rows:
            if last is not None:  # the query leaves them out; the column is nullable
                family.add_metric([refdes, method, stream], max(0.0, (now - last).total_seconds()))
        return family

    def _rounds(self, session: Session, now: datetime) -> Iterator[Metric]:
        beats = session.scalars(select(MonitorHeartbeat)).all()
        duration = GaugeMetricFamily(
            "ooi_status_monitor_round_duration_seconds",
            "Duration of the monitor's last round",
            labels=["kind"],
        )
        age = GaugeMetricFamily(
            "ooi_status_monitor_round_age_seconds",
            "Seconds since the monitor's last round started",
            labels=["kind"],
        )
        ok = GaugeMetricFamily(
            "ooi_status_monitor_round_ok", "1 when the last round succeeded", labels=["kind"]
        )
        for beat in beats:
            duration.add_metric([beat.kind], beat.duration)
            age.add_metric([beat.kind], (now - beat.started_at).total_seconds())
            ok.add_metric([beat.kind], 1 if beat.ok else 0)
        yield from (duration, age, ok)

    def _outbox(self, session: Session) -> Metric:
        counts = dict(
            session.execute(select(PendingUpdate.state, func.count()).group_by(PendingUpdate.state)).all()
        )
        family = GaugeMetricFamily(
            "ooi_status_outbox_events",
            "Status events in the outbox: pending (waiting), delivered, dead (set aside)",
            labels=["state"],
        )
        for state in OUTBOX_STATES:
            family.add_metric([state], counts.get(state, 0))
        return family

    def _messages(self, session: Session) -> Metric:
        """Outbox rows by kind of destination: sent (delivered), failed (pending after a failed
        attempt), dead (set aside), pending (not tried yet)."""
        rows = session.execute(
            select(
                PendingUpdate.sink, PendingUpdate.state, PendingUpdate.attempts > 0, func.count()
            ).group_by(PendingUpdate.sink, PendingUpdate.state, PendingUpdate.attempts > 0)
        ).all()
        counts: Tally[tuple[str, str]] = Tally()
        for sink, state, tried, count in rows:
            label = {DELIVERED: "sent", DEAD: "dead"}.get(state) or ("failed" if tried else "pending")
            counts[(sink_kind(sink), label)] += count
        family = GaugeMetricFamily(
            "ooi_status_outbox_messages",
            "Outbox messages by kind (events, webhook, email, chat) and state (sent, failed, dead, pending)",
            labels=["kind", "state"],
        )
        for kind in MESSAGE_KINDS:
            for label in MESSAGE_STATES:
                family.add_metric([kind, label], counts.get((kind, label), 0))
        return family

    def _port_stats_rejected(self, session: Session) -> Metric:
        # Counted by the monitor's consumer in the monitor schema, so every worker reports the same totals.
        counts = port_store.rejection_counts(session)
        family = CounterMetricFamily(
            "ooi_status_port_stats_rejected",
            "Port-agent statistics messages dead-lettered by the monitor, by reason",
            labels=["reason"],
        )
        for reason in REASONS:
            family.add_metric([reason], counts.get(reason, 0))
        return family


#: Request methods counted by name. A client may send any token as a method: the others are
#: counted as ``other``, so that the series stay bounded by the route table whatever clients send.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
#: The route of a request that matched none (an unknown path, or a known one with a method it
#: does not take): one label for all of them.
UNMATCHED_ROUTE = "(unmatched)"


class HttpMetrics:
    """Requests answered, by method, route and status; every label takes only known values (not the
    raw path: ids would explode the series; not any method a client makes up)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "ooi_status_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "ooi_status_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        # The counter and histogram of each (method, route, status) met so far: a few dozen at most.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def start(self) -> None:
        g.metrics_started = time.perf_counter()

    def finish(self, response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is None:
            return response
        method = request.method if request.method in METHODS else OTHER_METHOD
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        key = (method, route, response.status_code)
        series = self._series.get(key)
        if series is None:
            series = (self.requests.labels(method, route, str(key[2])), self.latency.labels(method, route))
            self._series[key] = series
        series[0].inc()
        series[1].observe(time.perf_counter() - started)
        return response


def init_app(app: Flask) -> None:
    settings = app.extensions["ooi_status.settings"]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        MonitorCollector(app.extensions["ooi_status.databases"], settings.METRICS_STREAM_DATA_AGE)
    )
    shared = os.environ.get(MULTIPROC_ENV)
    if shared:
        from prometheus_client import multiprocess

        # The counters write to the shared directory; scrapes read every process's files.
        multiprocess.MultiProcessCollector(registry, path=shared)
        http = HttpMetrics(None)
    else:
        http = HttpMetrics(registry)
    app.before_request(http.start)
    app.after_request(http.finish)
    app.extensions["ooi_status.metrics"] = registry


def exposition(app: Flask) -> Response:
    """The registry of ``app`` in Prometheus text format."""
    return Response(generate_latest(app.extensions["ooi_status.metrics"]), content_type=CONTENT_TYPE_LATEST)
