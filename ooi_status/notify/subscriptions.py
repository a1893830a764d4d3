"""Subscriptions in the monitor schema, and queueing a message for one in the outbox.

A message for a subscription is an outbox row (pending_update) like every status event:
``sink`` is ``mailto:<address>`` or ``chat:<webhook URL>``, ``asset_uid`` is
``subscription/<id>`` (messages of one subscription are delivered in order), and the row's
``message`` holds the subject, the texts and a ``message_id`` made when the row is queued,
the same on every retry, so that a receiver can drop duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ooi_status.db import rowcount
from ooi_status.model.monitor import CHAT_PREFIX, EMAIL_PREFIX, PENDING, PendingUpdate, Subscription
from ooi_status.notify.messages import Audience, Message


def audience(row: Subscription) -> Audience:
    return Audience(row.id, row.kind, row.target, row.match, row.min_status, row.mode)


def list_subscriptions(session: Session) -> Sequence[Subscription]:
    return session.scalars(select(Subscription).order_by(Subscription.id)).all()


def get_subscription(session: Session, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def create_subscription(
    session: Session, values: dict[str, str], created_by: str, now: datetime
) -> Subscription:
    """Add a subscription (checked values) in the caller's transaction."""
    row = Subscription(**values, created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    return row


def delete_subscription(session: Session, subscription_id: int) -> bool:
    """Remove it; its queued messages stay in the outbox (delivered, then kept as the audit trail)."""
    deleted = session.execute(delete(Subscription).where(Subscription.id == subscription_id))
    return bool(rowcount(deleted))


def audiences(session: Session, modes: Sequence[str]) -> list[tuple[Audience, Subscription]]:
    rows = session.scalars(select(Subscription).where(Subscription.mode.in_(modes)).order_by(Subscription.id))
    return [(audience(row), row) for row in rows]


def sink_of(who: Audience) -> str:
    return (EMAIL_PREFIX if who.kind == "email" else CHAT_PREFIX) + who.target


def outbox_message(who: Audience, message: Message) -> dict[str, str | None]:
    """The outbox row's message: e-mail fields, or the chat body's text."""
    message_id = f"{uuid.uuid4().hex}@ooi_status"
    if who.kind == "chat":
        return {"message_id": message_id, "text": message.text}
    return {"message_id": message_id, "to": who.target, "subject": message.subject,
            "text": message.text, "html": message.html}  # fmt: skip


def queue_message(session: Session, who: Audience, message: Message, now: datetime) -> PendingUpdate:
    """Queue ``message`` for ``who`` in the caller's transaction."""
    row = PendingUpdate(
        asset_uid=f"subscription/{who.id}", sink=sink_of(who), message=outbox_message(who, message),
        state=PENDING, error_count=0, attempts=0, created_at=now, next_attempt_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row
