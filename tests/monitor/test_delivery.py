"""Outbox delivery (ooi_status.monitor.delivery): at least once, in order per asset."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from monitor.fake_events import Delay, FakeEventsServer, always, closed_port, script
from ooi_status.config import Settings
from ooi_status.model.monitor import DEAD, DELIVERED, PENDING, PendingUpdate
from ooi_status.monitor.delivery import DeliveryError, DeliveryReport, EventsClient, deliver_due

CTD, ADCP = "CGINS-CTDBPC-50013", "CGINS-ADCPTF-00229"


@pytest.fixture
def events_settings(settings: Settings, events_server: FakeEventsServer) -> Settings:
    return events_server.settings_for(settings, RETRY_BACKOFF=30, RETRY_BACKOFF_MAX=100)


@pytest.fixture
def client(events_settings: Settings) -> Iterator[EventsClient]:
    events_client = EventsClient(events_settings)
    yield events_client
    events_client.close()


def message(asset_uid: str, seq: int) -> dict[str, Any]:
    return {"@class": ".AssetStatusEvent", "assetUid": asset_uid, "status": "failed", "seq": seq}


def queue(engine: Engine, now: datetime, *events: tuple[str, int], sink: str = "events") -> list[int]:
    """Queue one event per (asset, seq), in that order; their ids."""
    with Session(engine) as session, session.begin():
        rows = [
            PendingUpdate(
                asset_uid=asset, sink=sink, message=message(asset, seq), created_at=now, next_attempt_at=now
            )
            for asset, seq in events
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def outbox(engine: Engine) -> list[PendingUpdate]:
    with Session(engine) as session:
        return list(session.scalars(select(PendingUpdate).order_by(PendingUpdate.id)))


def deliver(engine: Engine, client: EventsClient, now: datetime, settings: Settings) -> DeliveryReport:
    with Session(engine) as session:
        return deliver_due(session, client, now, settings)


def seqs(server: FakeEventsServer) -> list[tuple[str, int]]:
    return [(r.body["assetUid"], r.body["seq"]) for r in server.requests]


# --- 201: delivered ----------------------------------------------------------------------------


def test_created_marks_events_delivered_in_queue_order(
    monitor_db, events_server, client, events_settings, now
):
    queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1), (CTD, 2))

    report = deliver(monitor_db.engine, client, now, events_settings)

    assert report == DeliveryReport(delivered=3, failed=0, dead=0, deferred=0)
    assert seqs(events_server) == [(CTD, 1), (ADCP, 1), (CTD, 2)]
    assert [r.path for r in events_server.requests] == [f"/events/postto/{uid}" for uid in (CTD, ADCP, CTD)]
    rows = outbox(monitor_db.engine)
    assert [r.body for r in events_server.requests] == [row.message for row in rows]
    assert {(r.state, r.delivered_at, r.attempts, r.claimed_until) for r in rows} == {
        (DELIVERED, now, 1, None)
    }


def test_delivered_events_are_not_sent_again(monitor_db, events_server, client, events_settings, now):
    queue(monitor_db.engine, now, (CTD, 1))
    deliver(monitor_db.engine, client, now, events_settings)

    report = deliver(monitor_db.engine, client, now + timedelta(minutes=1), events_settings)

    assert report == DeliveryReport(0, 0, 0, 0)
    assert len(events_server.requests) == 1


def test_asset_uid_is_quoted_in_the_url_path(settings):
    events_client = EventsClient(
        settings.replace(NOTIFY_URL_ROOT="http://events.example", NOTIFY_URL_PORT=80)
    )
    try:
        url = events_client.url_for("events", "CE/04 OSPS")
        webhook = events_client.url_for("https://hooks.example/x?y=1", "CE/04 OSPS")
    finally:
        events_client.close()
    assert url == "http://events.example:80/events/postto/CE%2F04%20OSPS"
    assert webhook == "https://hooks.example/x?y=1"


def test_batch_size_bounds_one_round(monitor_db, events_server, client, events_settings, now):
    queue(monitor_db.engine, now, (CTD, 1), (CTD, 2), (ADCP, 1))
    small = events_settings.replace(DELIVERY_BATCH_SIZE=2)

    first = deliver(monitor_db.engine, client, now, small)
    second = deliver(monitor_db.engine, client, now, small)

    assert (first.delivered, second.delivered) == (2, 1)
    # The head of each asset's queue first: ADCP's event does not wait behind CTD's backlog.
    assert seqs(events_server) == [(CTD, 1), (ADCP, 1), (CTD, 2)]


def test_one_asset_answered_302_does_not_slow_the_others(
    monitor_db, events_server, client, events_settings, now
):
    """An asset whose events are redirected has a backlog older than everyone else's: the
    others are delivered in the first round all the same, and its head event is dead after
    MAX_STATUS_POST_FAILURES rounds, letting the next one through."""
    stuck = "CGINS-STUCK-00001"
    others = [f"CGINS-OTHER-{n:05d}" for n in range(6)]
    queue(monitor_db.engine, now, *[(stuck, seq) for seq in range(1, 31)])
    queue(monitor_db.engine, now, *[(asset, 1) for asset in others])
    events_server.responder = lambda path, body: 302 if body["assetUid"] == stuck else 201
    small = events_settings.replace(DELIVERY_BATCH_SIZE=10, MAX_STATUS_POST_FAILURES=3)

    first = deliver(monitor_db.engine, client, now, small)

    assert first.delivered == len(others)
    assert [seq for asset, seq in seqs(events_server) if asset == stuck] == [1]  # its head only
    rounds = [deliver(monitor_db.engine, client, now, small) for _ in range(2)]
    assert [r.dead for r in rounds] == [0, 1]
    states = {
        (row.asset_uid, row.message["seq"]): (row.state, row.error_count) for row in outbox(monitor_db.engine)
    }
    assert states[(stuck, 1)] == (DEAD, 3)
    assert states[(stuck, 2)] == (PENDING, 0)
    assert all(states[(asset, 1)][0] == DELIVERED for asset in others)
    deliver(monitor_db.engine, client, now, small)
    assert [seq for asset, seq in seqs(events_server) if asset == stuck] == [1, 1, 1, 2]


# --- 4xx: the event's fault ----------------------------------------------------------------------


def test_client_error_counts_until_the_event_is_dead(monitor_db, events_server, client, events_settings, now):
    events_server.responder = lambda path, body: 400 if body["seq"] == 1 else 201
    queue(monitor_db.engine, now, (CTD, 1), (CTD, 2))
    settings = events_settings.replace(MAX_STATUS_POST_FAILURES=3)

    reports = [deliver(monitor_db.engine, client, now + timedelta(minutes=i), settings) for i in range(3)]

    assert [(r.failed, r.dead, r.deferred) for r in reports] == [(1, 0, 1), (1, 0, 1), (0, 1, 1)]
    dead, waiting = outbox(monitor_db.engine)
    assert (dead.state, dead.error_count, dead.attempts) == (DEAD, 3, 3)
    assert "HTTP 400" in dead.last_error
    assert (waiting.state, waiting.attempts) == (PENDING, 0)
    assert seqs(events_server) == [(CTD, 1)] * 3


def test_dead_events_are_kept_and_not_resent(monitor_db, events_server, client, events_settings, now):
    events_server.responder = lambda path, body: 404 if body["seq"] == 1 else 201
    queue(monitor_db.engine, now, (CTD, 1), (CTD, 2))
    settings = events_settings.replace(MAX_STATUS_POST_FAILURES=1)

    first = deliver(monitor_db.engine, client, now, settings)
    second = deliver(monitor_db.engine, client, now + timedelta(minutes=1), settings)
    third = deliver(monitor_db.engine, client, now + timedelta(minutes=2), settings)

    assert (first.dead, second.delivered, third) == (1, 1, DeliveryReport(0, 0, 0, 0))
    assert seqs(events_server) == [(CTD, 1), (CTD, 2)]
    assert [row.state for row in outbox(monitor_db.engine)] == [DEAD, DELIVERED]


# --- 5xx, refused, timeout: the service's fault ---------------------------------------------------


def test_server_error_retries_after_a_doubling_capped_backoff(
    monitor_db, events_server, client, events_settings, now
):
    events_server.responder = always(503)
    queue(monitor_db.engine, now, (CTD, 1))
    expected_next = {0: 30, 29: None, 30: 30 + 60, 90: 90 + 100, 190: 190 + 100}

    for offset, delay in expected_next.items():
        report = deliver(monitor_db.engine, client, now + timedelta(seconds=offset), events_settings)
        (row,) = outbox(monitor_db.engine)
        if delay is None:
            assert (report.failed, report.deferred) == (0, 1)
        else:
            assert report.failed == 1
            assert row.next_attempt_at == now + timedelta(seconds=delay)

    assert len(events_server.requests) == 4
    assert (row.state, row.attempts, row.error_count, row.claimed_until) == (PENDING, 4, 0, None)
    assert "HTTP 503" in row.last_error


def test_unreachable_service_costs_one_attempt_per_round(monitor_db, settings, now, caplog):
    port = closed_port()
    refused = settings.replace(NOTIFY_URL_ROOT="http://127.0.0.1", NOTIFY_URL_PORT=port)
    queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1), ("CP01CNSM-MFD37-00001", 1))
    events_client = EventsClient(refused)
    try:
        with caplog.at_level(logging.WARNING, logger="ooi_status.monitor.delivery"):
            report = deliver(monitor_db.engine, events_client, now, refused)
    finally:
        events_client.close()

    events_url = f"http://127.0.0.1:{port}/events/postto/"
    assert report == DeliveryReport(delivered=0, failed=1, dead=0, deferred=2, unreachable=[events_url])
    assert [(r.state, r.attempts, r.claimed_until) for r in outbox(monitor_db.engine)] == [
        (PENDING, 1, None),
        (PENDING, 0, None),
        (PENDING, 0, None),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert events_url in warnings[0]


def test_timeout_keeps_the_event(monitor_db, events_server, events_settings, now):
    events_server.responder = script([Delay(2.0, 201)])
    quick = events_settings.replace(NOTIFY_TIMEOUT=0.2)
    queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1))
    events_client = EventsClient(quick)
    try:
        report = deliver(monitor_db.engine, events_client, now, quick)
    finally:
        events_client.close()

    assert (report.delivered, report.failed, report.dead, report.deferred) == (0, 1, 0, 1)
    assert report.unreachable == [f"{events_server.url}/events/postto/"]
    first, second = outbox(monitor_db.engine)
    assert (first.state, first.attempts, first.next_attempt_at) == (PENDING, 1, now + timedelta(seconds=30))
    assert "timeout" in first.last_error
    assert (second.state, second.attempts) == (PENDING, 0)
    assert len(events_server.requests) == 1


def test_unreachable_events_service_does_not_stop_webhooks(
    monitor_db, events_server, client, events_settings, now
):
    events_server.responder = always(503)
    with FakeEventsServer(always(202)) as hook:
        queue(monitor_db.engine, now, (CTD, 1), (CTD, 2))
        queue(monitor_db.engine, now, (CTD, 1), (CTD, 2), sink=f"{hook.url}/hook")

        report = deliver(monitor_db.engine, client, now, events_settings)

        assert seqs(hook) == [(CTD, 1), (CTD, 2)]
    assert (report.delivered, report.failed, report.deferred) == (2, 1, 1)
    assert report.unreachable == [f"{events_server.url}/events/postto/"]
    assert seqs(events_server) == [(CTD, 1)]


# --- order per asset, claims ----------------------------------------------------------------------


def test_failed_event_holds_back_its_asset_only(monitor_db, events_server, client, events_settings, now):
    events_server.responder = script([400])
    queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1), (CTD, 2), (ADCP, 2))

    first = deliver(monitor_db.engine, client, now, events_settings)
    second = deliver(monitor_db.engine, client, now + timedelta(minutes=1), events_settings)

    assert (first.delivered, first.failed, first.deferred) == (2, 1, 1)
    assert second.delivered == 2
    assert seqs(events_server) == [(CTD, 1), (ADCP, 1), (ADCP, 2), (CTD, 1), (CTD, 2)]
    assert {row.state for row in outbox(monitor_db.engine)} == {DELIVERED}


def test_event_in_backoff_holds_back_later_events_of_its_asset(
    monitor_db, events_server, client, events_settings, now
):
    (first_id,) = queue(monitor_db.engine, now, (CTD, 1))
    queue(monitor_db.engine, now, (CTD, 2), (ADCP, 1))
    with monitor_db.engine.begin() as conn:
        conn.execute(
            update(PendingUpdate)
            .where(PendingUpdate.id == first_id)
            .values(attempts=1, next_attempt_at=now + timedelta(seconds=30))
        )

    report = deliver(monitor_db.engine, client, now, events_settings)

    assert report == DeliveryReport(delivered=1, failed=0, dead=0, deferred=2)
    assert seqs(events_server) == [(ADCP, 1)]


def test_event_claimed_by_another_deliverer_is_not_sent(
    monitor_db, events_server, client, events_settings, now
):
    claimed_id, behind_id = queue(monitor_db.engine, now, (CTD, 1), (CTD, 2))
    queue(monitor_db.engine, now, (ADCP, 1))
    lease = now + timedelta(seconds=60)
    with monitor_db.engine.begin() as conn:
        conn.execute(update(PendingUpdate).where(PendingUpdate.id == claimed_id).values(claimed_until=lease))

    report = deliver(monitor_db.engine, client, now, events_settings)

    assert report.delivered == 1
    assert seqs(events_server) == [(ADCP, 1)]
    rows = {row.id: row for row in outbox(monitor_db.engine)}
    assert rows[claimed_id].claimed_until == lease
    assert (rows[behind_id].state, rows[behind_id].claimed_until) == (PENDING, None)

    # The other deliverer died: after its lease the events go out, still in order.
    deliver(monitor_db.engine, client, lease, events_settings)
    assert seqs(events_server) == [(ADCP, 1), (CTD, 1), (CTD, 2)]


def test_second_deliverer_during_a_round_sends_nothing(
    monitor_db, events_server, client, events_settings, now
):
    queue(monitor_db.engine, now, (CTD, 1), (CTD, 2), (ADCP, 1))
    nested: list[DeliveryReport] = []
    rival = EventsClient(events_settings)

    def respond(path: str, body: Any) -> int:
        if not nested:  # while the first POST of the round is in flight
            nested.append(deliver(monitor_db.engine, rival, now, events_settings))
        return 201

    events_server.responder = respond
    try:
        report = deliver(monitor_db.engine, client, now, events_settings)
    finally:
        rival.close()

    assert nested == [DeliveryReport(delivered=0, failed=0, dead=0, deferred=3)]
    assert report.delivered == 3
    assert seqs(events_server) == [(CTD, 1), (CTD, 2), (ADCP, 1)]


# --- webhooks and other answers ------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_webhook_receives_the_same_message_and_accepts_any_2xx(
    monitor_db, events_server, client, events_settings, now, status
):
    events_server.responder = always(status)
    queue(monitor_db.engine, now, (CTD, 1), sink=f"{events_server.url}/hooks/ooi?token=abc")

    report = deliver(monitor_db.engine, client, now, events_settings)

    (row,) = outbox(monitor_db.engine)
    assert report.delivered == 1
    assert row.state == DELIVERED
    assert [(r.path, r.body) for r in events_server.requests] == [("/hooks/ooi?token=abc", row.message)]


@pytest.mark.parametrize("status", [200, 202, 204, 301, 302, 307])
def test_other_answers_of_the_events_api_count_against_the_event(
    monitor_db, events_server, client, events_settings, now, status
):
    """A redirect or a success other than 201 is the event's failure, like a 4xx: counted,
    dead after the limit, never retried for ever ahead of its asset's later events."""
    events_server.responder = lambda path, body: status if body["assetUid"] == CTD else 201
    queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1))
    limit = events_settings.MAX_STATUS_POST_FAILURES

    report = deliver(monitor_db.engine, client, now, events_settings)

    assert (report.delivered, report.failed) == (1, 1)
    ctd, adcp = outbox(monitor_db.engine)
    assert (ctd.state, ctd.attempts, ctd.error_count) == (PENDING, 1, 1)
    assert ctd.next_attempt_at == now  # no backoff: the service answered
    assert f"HTTP {status}" in ctd.last_error
    assert adcp.state == DELIVERED
    for _ in range(limit - 1):
        deliver(monitor_db.engine, client, now, events_settings)
    ctd, _adcp = outbox(monitor_db.engine)
    assert (ctd.state, ctd.error_count) == (DEAD, limit)


# --- the client's classification -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sink", "status", "permanent", "unreachable"),
    [
        ("events", 400, True, False),
        ("events", 404, True, False),
        ("events", 499, True, False),
        ("events", 500, False, True),
        ("events", 503, False, True),
        ("events", 200, True, False),
        ("events", 301, True, False),
        ("webhook", 302, True, False),
        ("webhook", 422, True, False),
        ("webhook", 502, False, True),
    ],
)
def test_failed_post_is_classified_by_status(
    events_server, events_settings, sink, status, permanent, unreachable
):
    events_server.responder = always(status)
    events_client = EventsClient(events_settings)
    target = "events" if sink == "events" else f"{events_server.url}/hook"
    try:
        with pytest.raises(DeliveryError) as caught:
            events_client.post(target, CTD, message(CTD, 1))
    finally:
        events_client.close()
    assert (caught.value.permanent, caught.value.unreachable) == (permanent, unreachable)
    assert str(status) in str(caught.value)


def test_message_that_is_not_json_is_the_events_fault(events_server, events_settings):
    events_client = EventsClient(events_settings)
    try:
        with pytest.raises(DeliveryError) as caught:
            events_client.post("events", CTD, {"assetUid": CTD, "severity": float("nan")})
    finally:
        events_client.close()
    assert caught.value.permanent and not caught.value.unreachable
    assert events_server.requests == []


def test_webhook_url_in_errors_hides_path_and_credentials(settings):
    events_client = EventsClient(settings.replace(NOTIFY_TIMEOUT=0.5))
    sink = f"http://user:secret@127.0.0.1:{closed_port()}/hooks/T0KEN?key=s3cret"
    try:
        with pytest.raises(DeliveryError) as caught:
            events_client.post(sink, CTD, message(CTD, 1))
    finally:
        events_client.close()
    assert caught.value.unreachable and not caught.value.permanent
    assert "secret" not in str(caught.value) and "T0KEN" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


@pytest.mark.parametrize("sink", ["http://[::1/hook", "http://127.0.0.1:notaport/hook", "no scheme"])
def test_malformed_webhook_url_is_an_unreachable_sink(settings, sink):
    events_client = EventsClient(settings)
    try:
        with pytest.raises(DeliveryError) as caught:
            events_client.post(sink, CTD, message(CTD, 1))
    finally:
        events_client.close()
    assert caught.value.unreachable and not caught.value.permanent


# --- logging ----------------------------------------------------------------------------------------


def test_round_logs_one_info_line_only_when_it_did_something(
    monitor_db, events_server, client, events_settings, now, caplog
):
    with caplog.at_level(logging.INFO, logger="ooi_status.monitor.delivery"):
        deliver(monitor_db.engine, client, now, events_settings)
        idle = list(caplog.records)
        queue(monitor_db.engine, now, (CTD, 1), (ADCP, 1))
        deliver(monitor_db.engine, client, now, events_settings)

    assert idle == []
    sink = client.display_sink("events")
    assert [r.getMessage() for r in caplog.records] == [
        f"delivery: 2 delivered, 0 failed, 0 dead, 0 deferred ({sink}: 2 delivered, 0 failed, 0 dead)"
    ]


def test_round_line_counts_each_sink_and_event_lines_name_the_instrument(
    monitor_db, events_server, client, events_settings, now, caplog
):
    from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator

    refdes = "CE01ISSM-MFD35-04-CTDBPN104"
    with Session(monitor_db.engine) as session, session.begin():
        expected = ExpectedStream(name="ctdbp_sample", method="telemetered")
        stream = DeployedStream(
            reference_designator=ReferenceDesignator(name=refdes), expected_stream=expected
        )
        session.add(stream)
        session.flush()
        session.add(
            PendingUpdate(
                deployed_stream_id=stream.id, asset_uid=CTD, sink="events", message=message(CTD, 1),
                created_at=now, next_attempt_at=now,
            )
        )  # fmt: skip
    webhook_url = f"http://127.0.0.1:{closed_port()}/hook"
    queue(monitor_db.engine, now, (ADCP, 1), sink=webhook_url)
    with caplog.at_level(logging.DEBUG, logger="ooi_status.monitor.delivery"):
        deliver(monitor_db.engine, client, now, events_settings)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(f"for {refdes} (asset {CTD}) delivered" in line for line in debug), debug
    assert any(f"for asset {ADCP} failed" in line for line in debug), debug
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(info) == 1, info
    events_sink, webhook = client.display_sink("events"), client.display_sink(webhook_url)
    assert f"{events_sink}: 1 delivered, 0 failed, 0 dead" in info[0]
    assert f"{webhook}: 0 delivered, 1 failed, 0 dead" in info[0]
