"""/subscription: who is told in words about status changes (e-mail, chat), and a test send.

Every route needs the write key: subscriptions hold addresses and webhook URLs.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from ooi_status.api.auth import require_write
from ooi_status.api.context import monitor_session
from ooi_status.api.errors import NotFound
from ooi_status.api.subscribing import subscription, subscription_values
from ooi_status.api.validation import read_json_object
from ooi_status.notify.messages import trial_message
from ooi_status.notify.subscriptions import (
    audience,
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    queue_message,
)
from ooi_status.times import utcnow

bp = Blueprint("subscriptions", __name__)


@bp.get("/subscription")
@require_write
def list_all() -> dict:
    return {"subscriptions": [subscription(row) for row in list_subscriptions(monitor_session())]}


@bp.post("/subscription")
@require_write
def create() -> tuple[dict, int]:
    values = subscription_values(read_json_object(request.get_data()))
    session = monitor_session()
    with session.begin():
        row = create_subscription(session, values, g.api_key_name, utcnow())
    return subscription(row), 201


@bp.delete("/subscription/<id:subscription_id>")
@require_write
def remove(subscription_id: int) -> tuple[str, int]:
    session = monitor_session()
    with session.begin():
        if not delete_subscription(session, subscription_id):
            raise NotFound(f"no subscription {subscription_id}")
    return "", 204


@bp.post("/subscription/<id:subscription_id>/test")
@require_write
def send_test(subscription_id: int) -> tuple[dict, int]:
    """Queue a test message: the monitor's next delivery round sends it like any other."""
    session = monitor_session()
    with session.begin():
        row = get_subscription(session, subscription_id)
        if row is None:
            raise NotFound(f"no subscription {subscription_id}")
        who = audience(row)
        queued = queue_message(session, who, trial_message(who, utcnow()), utcnow())
    return {"queued": True, "outbox_id": queued.id, "message_id": queued.message["message_id"]}, 202
