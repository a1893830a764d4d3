"""Messages for people in a chat room: the same grouping in the webhook's ``{"text": ...}``,
against a loopback HTTP server, through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.fake_events import script
from monitor.notify_world import NODE, NODE_INSTRUMENTS, NotifyWorld, build_world
from ooi_status.model.monitor import DELIVERED, PENDING

HOUR = timedelta(hours=1)
HOOK = "/hooks/T000/B000/secret"


@pytest.fixture
def world(db_settings, empty_metadata_db, monitor_db, events_server, now) -> Iterator[NotifyWorld]:
    built = build_world(
        empty_metadata_db.engine, monitor_db.engine, events_server.settings_for(db_settings), now
    )
    built.step(now)
    built.subscribe(now, kind="chat", target=events_server.url + HOOK)
    yield built
    built.close()


def chat_posts(server):
    return [(r.body, server.message_ids[i]) for i, r in enumerate(server.requests) if r.path == HOOK]


def test_five_instruments_of_one_node_failing_are_one_chat_message_with_the_grouped_line(
    world, events_server, now
):
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    posts = chat_posts(events_server)
    assert len(posts) == 1
    body, message_id = posts[0]
    assert list(body) == ["text"]
    assert body["text"].startswith(f"{NODE}: 5 instruments failed\n")
    assert (
        f"  {NODE_INSTRUMENTS[0]}: failed  <http://localhost:9000/ui/instrument/{NODE_INSTRUMENTS[0]}>"
        in (body["text"])
    )
    assert message_id and message_id.endswith("@ooi_status")


def test_a_chat_server_error_is_retried_with_the_same_message_id(world, events_server, now):
    events_server.responder = lambda path, body: 503 if path == HOOK else 201
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    (row,) = world.outbox("chat:")
    assert row.state == PENDING and row.attempts == 1
    events_server.responder = script([], then=200)
    world.step(now + 2 * HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    posts = chat_posts(events_server)
    assert len(posts) == 2 and posts[0] == posts[1]  # same text, same X-Message-Id
    assert [r.state for r in world.outbox("chat:")] == [DELIVERED]
    assert "secret" not in (world.outbox("chat:")[0].last_error or "")
