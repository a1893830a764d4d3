"""Messages for people by e-mail, end to end: check round → notification step → outbox →
a real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL, clock injected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.fake_smtp import FakeSmtpServer
from monitor.notify_world import NODE, NODE_INSTRUMENTS, OTHER, NotifyWorld, build_world, stream_of
from ooi_status.model.monitor import DEAD, DELIVERED, PENDING, DeployedStream, Silence
from ooi_status.reports.uptime import uptime

HOUR = timedelta(hours=1)


@pytest.fixture
def world(
    db_settings, empty_metadata_db, monitor_db, events_server, smtp_server, now
) -> Iterator[NotifyWorld]:
    settings = smtp_server.settings_for(events_server.settings_for(db_settings))
    built = build_world(empty_metadata_db.engine, monitor_db.engine, settings, now)
    built.step(now)  # every stream's first status: operational (bookkeeping, not news)
    yield built
    built.close()


def bodies(smtp: FakeSmtpServer) -> list[str]:
    return [message.get_body(("plain",)).get_content().replace("\r\n", "\n") for message in smtp.messages]


def test_five_instruments_of_one_node_failing_are_one_email_with_the_grouped_line(world, smtp_server, now):
    world.subscribe(now)
    assert smtp_server.messages == []  # the first statuses were not news
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["Subject"] == f"[ooi_status] {NODE}: 5 instruments failed"
    assert smtp_server.recipients == [["ops@example.org"]]
    assert mail["Message-ID"].endswith("@ooi_status>")
    text = bodies(smtp_server)[0]
    assert text.startswith(f"{NODE}: 5 instruments failed\n")
    for refdes in NODE_INSTRUMENTS[:5]:
        assert f"  {refdes}: failed  <http://localhost:9000/ui/instrument/{refdes}>" in text
        assert f"    streamed {stream_of(refdes)}: operational -> failed; data age 2:00:00" in text
    assert NODE_INSTRUMENTS[5] not in text
    world.step(now + 2 * HOUR, stale=set(NODE_INSTRUMENTS[:5]))  # nothing changed: nothing sent
    assert len(smtp_server.messages) == 1
    world.step(now + 3 * HOUR, stale=set(NODE_INSTRUMENTS[1:5]))
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["Subject"] == f"[ooi_status] {NODE_INSTRUMENTS[0]}: recovered"


def test_a_subscription_gets_only_its_prefix_and_level(world, smtp_server, now):
    world.subscribe(now, match="CE02", target="ce02@example.org", min_status="degraded")
    world.step(now + HOUR, stale={*NODE_INSTRUMENTS[:5], OTHER})
    assert smtp_server.recipients == [["ce02@example.org"]]
    assert smtp_server.messages[0]["Subject"] == f"[ooi_status] {OTHER}: failed"


def test_a_silenced_node_sends_nothing_and_its_end_sends_one(world, smtp_server, now):
    world.subscribe(now)
    with Session(world.engine) as session, session.begin():
        ends = now + 90 * timedelta(minutes=1)
        session.add(Silence(refdes=NODE, method=None, stream=None, starts_at=now, ends_at=ends,
                            reason="buoy recovery", created_by="ops", created_at=now))  # fmt: skip
    stale = set(NODE_INSTRUMENTS[:5])
    world.step(now + HOUR, stale=stale)
    assert smtp_server.messages == []
    world.step(now + 2 * HOUR, stale=stale)  # the silence ended at +1:30, the node is still failed
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"] == f"[ooi_status] {NODE}: 5 instruments still failed"
    text = bodies(smtp_server)[0]
    assert f"streamed {stream_of(NODE_INSTRUMENTS[0])}: still failed since" in text
    world.step(now + 3 * HOUR, stale=stale)
    assert len(smtp_server.messages) == 1


def test_flapping_is_held_back_then_one_message_where_it_settled(world, smtp_server, now):
    world.subscribe(now, min_status="failed")
    flapper = NODE_INSTRUMENTS[0]
    start = now + 2 * HOUR  # the first statuses are out of the flapping window
    for flip in range(5):  # failed, operational, failed, operational, failed: 10 minutes apart
        world.step(start + flip * timedelta(minutes=10), stale={flapper} if flip % 2 == 0 else set())
    # The first three changes went out (nothing flapped yet); the fourth made it flapping.
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [f"[ooi_status] {flapper}: {word}" for word in ("failed", "recovered", "failed")]
    assert _flapping(world) == {flapper}
    settled_at = start + 40 * timedelta(minutes=1)
    world.step(settled_at + 59 * timedelta(minutes=1), stale={flapper})  # stable for less than FLAP_WINDOW
    assert len(smtp_server.messages) == 3
    world.step(settled_at + 61 * timedelta(minutes=1), stale={flapper})
    assert len(smtp_server.messages) == 4
    assert smtp_server.messages[3]["Subject"] == f"[ooi_status] {flapper}: settled after flapping"
    assert "stopped flapping, settled at failed" in bodies(smtp_server)[3]
    assert _flapping(world) == set()
    world.step(settled_at + 2 * HOUR, stale={flapper})
    assert len(smtp_server.messages) == 4


@pytest.fixture
def held_world(
    db_settings, empty_metadata_db, monitor_db, events_server, smtp_server, now
) -> Iterator[NotifyWorld]:
    """The world with NOTIFY_HOLD = 15 minutes."""
    settings = smtp_server.settings_for(events_server.settings_for(db_settings)).replace(NOTIFY_HOLD=900)
    built = build_world(empty_metadata_db.engine, monitor_db.engine, settings, now)
    built.step(now)
    yield built
    built.close()


def test_with_a_hold_flapping_sends_nothing_until_it_settles_then_one_message(held_world, smtp_server, now):
    world = held_world
    world.subscribe(now, min_status="failed")
    flapper = NODE_INSTRUMENTS[0]
    start = now + 2 * HOUR
    minute = timedelta(minutes=1)
    for flip in range(5):  # failed, operational, failed, operational, failed: 10 minutes apart
        for offset in range(0, 10, 2):  # rounds in between: every change is seen held for 8 minutes
            world.step(
                start + flip * 10 * minute + offset * minute, stale={flapper} if flip % 2 == 0 else set()
            )
    assert smtp_server.messages == []
    assert _flapping(world) == {flapper}
    settled_at = start + 40 * minute
    world.step(settled_at + 30 * minute, stale={flapper})  # failed for 30 min: held, but still flapping
    assert smtp_server.messages == []
    world.step(settled_at + 61 * minute, stale={flapper})
    assert [m["Subject"] for m in smtp_server.messages] == [f"[ooi_status] {flapper}: settled after flapping"]
    assert "stopped flapping, settled at failed" in bodies(smtp_server)[0]
    world.step(settled_at + 2 * HOUR, stale={flapper})
    assert len(smtp_server.messages) == 1


def test_with_a_hold_a_failure_is_told_once_it_held_and_a_short_one_never(held_world, smtp_server, now):
    world = held_world
    world.subscribe(now, min_status="failed")
    minute = timedelta(minutes=1)
    short, lasting = NODE_INSTRUMENTS[0], OTHER
    world.step(now + HOUR, stale={short, lasting})
    world.step(now + HOUR + 10 * minute, stale={lasting})  # short recovered after 10 minutes
    assert smtp_server.messages == []
    world.step(now + HOUR + 14 * minute, stale={lasting})
    assert smtp_server.messages == []  # 14 minutes: not yet held
    world.step(now + HOUR + 15 * minute, stale={lasting})
    assert [m["Subject"] for m in smtp_server.messages] == [f"[ooi_status] {lasting}: failed"]
    assert f"streamed {stream_of(lasting)}: operational -> failed" in bodies(smtp_server)[0]
    world.step(now + 2 * HOUR, stale={lasting})
    world.step(now + 3 * HOUR)  # recovered: told 15 minutes later
    assert len(smtp_server.messages) == 1
    world.step(now + 3 * HOUR + 15 * minute)
    assert [m["Subject"] for m in smtp_server.messages][1:] == [f"[ooi_status] {lasting}: recovered"]


def test_with_a_hold_a_short_recovery_before_the_step_does_not_make_a_failure_news_again(
    held_world, smtp_server, now
):
    """The held status at the start of a step may lie further back than the step's changes: a
    recovery of 2 minutes just before them is looked through (the steps read earlier history)."""
    world = held_world
    world.subscribe(now, min_status="failed")
    minute = timedelta(minutes=1)
    lasting = OTHER
    for at, stale in [(60, {lasting}), (75, {lasting}), (124, set()), (126, {lasting}), (140, {lasting})]:
        world.step(now + at * minute, stale=stale)
    assert [m["Subject"] for m in smtp_server.messages] == [f"[ooi_status] {lasting}: failed"]
    world.step(now + 150 * minute, stale={lasting})
    assert len(smtp_server.messages) == 1


def _flapping(world: NotifyWorld) -> set[str]:
    with Session(world.engine) as session:
        rows = session.scalars(select(DeployedStream).where(DeployedStream.flapping_since.is_not(None)))
        return {row.reference_designator.name for row in rows}


def test_the_digest_comes_at_its_hour_once_a_day_not_twice_after_a_restart(world, smtp_server, now):
    world.subscribe(now, mode="digest")  # now is 12:00; DIGEST_HOUR is 7
    day = now.replace(hour=0) + timedelta(days=1)
    world.step(day + timedelta(hours=6, minutes=59), stale={NODE_INSTRUMENTS[0]})
    assert smtp_server.messages == []  # digest mode only: no immediate message either
    world.step(day + timedelta(hours=7))
    assert len(smtp_server.messages) == 1
    digest = smtp_server.messages[0]
    assert digest["Subject"].startswith("[ooi_status] Daily digest: all instruments")
    assert digest.get_body(("html",)).get_content_type() == "text/html"
    assert "<script" not in digest.get_body(("html",)).get_content()
    world.step(day + timedelta(hours=7, minutes=1))
    world.restart()
    world.step(day + timedelta(hours=7, minutes=2))
    assert len(smtp_server.messages) == 1
    world.step(day + timedelta(days=1, hours=7))
    assert len(smtp_server.messages) == 2


def test_an_smtp_server_answering_4xx_is_retried_and_nothing_is_lost(world, smtp_server, now):
    world.subscribe(now)
    smtp_server.answers = ["451 4.3.0 try again later"]
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    assert smtp_server.messages == []
    (row,) = world.outbox()
    assert (row.state, row.attempts, row.error_count) == (PENDING, 1, 0)
    world.step(now + HOUR + timedelta(seconds=10), stale=set(NODE_INSTRUMENTS[:5]))  # in backoff
    assert smtp_server.attempts == 1
    world.step(now + HOUR + timedelta(minutes=1), stale=set(NODE_INSTRUMENTS[:5]))
    assert len(smtp_server.messages) == 1
    assert [r.state for r in world.outbox()] == [DELIVERED]


def test_an_smtp_server_answering_5xx_makes_the_message_dead_after_the_limit_and_kept(
    world, smtp_server, now
):
    world.subscribe(now)
    smtp_server.answers = ["554 5.7.1 refused"] * 5
    at = now + HOUR
    for _ in range(5):
        world.step(at, stale=set(NODE_INSTRUMENTS[:5]))
        at += timedelta(minutes=1)
    (row,) = world.outbox()
    assert (row.state, row.error_count) == (DEAD, 5)
    assert "SMTP 554" in (row.last_error or "")
    assert smtp_server.attempts == 5 and smtp_server.messages == []


def test_an_smtp_server_that_is_down_is_retried_and_nothing_is_lost(world, smtp_server, now):
    world.subscribe(now)
    smtp_server.stop()
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    (row,) = world.outbox()
    assert (row.state, row.attempts) == (PENDING, 1)
    assert "unavailable" in (row.last_error or "")
    with FakeSmtpServer(port=smtp_server.port) as back:
        world.step(now + 2 * HOUR, stale=set(NODE_INSTRUMENTS[:5]))
        assert len(back.messages) == 1
        assert f"{NODE}: 5 instruments failed" in back.messages[0]["Subject"]
    assert [r.state for r in world.outbox()] == [DELIVERED]


def test_a_failed_instrument_s_message_says_where_its_data_stops(world, smtp_server, monitor_db, now):
    from ooi_status import port_store
    from ooi_status.port_counts import PortCountRecord

    at = now + HOUR
    receiving, silent, without = NODE_INSTRUMENTS[:3]
    counts = [PortCountRecord(receiving, at - timedelta(seconds=30), 60.0, 24_720, 0, 0, 1)]
    counts += [PortCountRecord(silent, at - timedelta(minutes=m), 60.0, 0, 0, 0, 1) for m in range(5)]
    counts += [PortCountRecord(silent, at - timedelta(minutes=50), 60.0, 900, 0, 0, 1)]
    with Session(monitor_db.engine) as session, session.begin():
        port_store.store_counts(session, counts)
    world.subscribe(now)
    world.step(at, stale={receiving, silent, without})
    text = bodies(smtp_server)[0]
    link = "<http://localhost:9000/ui/instrument/{}>"
    since = (at - timedelta(minutes=50)).strftime("%Y-%m-%d %H:%M:%S")
    # Three instruments of one node: grouped under the node's line, each with its diagnosis once.
    assert (
        f"\n  {receiving}: failed  {link.format(receiving)}\n"
        "    diagnosis: port agent receiving 412 B/s: data arrives but no particles are stored "
        "(ingest or parser)\n"
        f"    streamed {stream_of(receiving)}: operational -> failed"
    ) in text
    assert (
        f"\n  {silent}: failed  {link.format(silent)}\n"
        f"    diagnosis: no bytes from the port agent since {since} (instrument or communications)\n"
    ) in text
    assert f"\n  {without}: failed  {link.format(without)}\n    streamed" in text  # no port statistics


def test_the_digest_shows_each_sites_uptime_as_the_uptime_report_gives_it(world, smtp_server, now):
    """Hand-worked: the monitor's first round is at 12:00, one CE01ISSM instrument of six fails at
    13:00 and stays failed; the digest at 07:00 next day covers 19 tracked hours of each window
    (nothing before the first round counts), so CE01ISSM is up (5 x 19 + 1) / (6 x 19) = 84.2 % of
    its instruments' time and CE02SHBP 100 %, over 24 h and over 7 d alike."""
    world.subscribe(now, mode="digest")
    world.step(now + HOUR, stale={NODE_INSTRUMENTS[0]})
    digest_at = now.replace(hour=7) + timedelta(days=1)
    world.step(digest_at, stale={NODE_INSTRUMENTS[0]})
    (mail,) = smtp_server.messages
    text = bodies(smtp_server)[0]
    assert "  CE01ISSM  84.2%  84.2%" in text
    assert "  CE02SHBP  100.0%  100.0%" in text
    with Session(world.engine) as session:
        for days in (1, 7):
            rows = uptime(session, digest_at - timedelta(days=days), digest_at, "site")
            report = {row["site"]: row["uptime_percent"] for row in rows}
            assert round(report["CE01ISSM"], 1) == 84.2
            assert report["CE02SHBP"] == 100.0
