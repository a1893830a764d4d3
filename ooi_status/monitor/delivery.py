"""Delivery of the event outbox (pending_update): at least once, in order per (sink, asset).

A delivery round (``deliver_due``) has three steps and two transactions:

1. **Claim** (transaction 1, committed before any POST): read the heads of the queues
   (DELIVERY_BATCH_SIZE rows at most: the first pending row of every (sink, asset) queue, then
   the second of each, and so on, so that one asset's backlog or trouble never crowds the
   others out of a round) and claim the due ones with a guarded UPDATE that sets
   ``claimed_until = now + CLAIM_LEASE`` only where no live claim exists. The UPDATE, not the
   read, decides: of two deliverers racing for a row exactly one gets it back from RETURNING,
   the other leaves the row alone. With a ``fence`` (ooi_status.monitor.leader), the claim
   commits only while this monitor leads: a monitor that lost the lead claims nothing.
2. **Send** (no transaction, no database lock held during network I/O): POST the claimed
   rows in id order. A row is sent only while every earlier pending row of its (sink, asset)
   in the batch was delivered this round: a failure, a row in backoff or a row claimed by
   another deliverer holds back the later rows of that asset, and an unreachable sink
   holds back all of its rows until the next round.
3. **Record** (transaction 2): every outcome written in bulk, each UPDATE guarded by our own
   lease value, so a round that outlived its lease never overwrites the work of the
   deliverer that took the rows over.

A crash after a POST and before step 3 leaves the row pending with a claim that expires
after CLAIM_LEASE; the event is then sent again. Receivers must tolerate duplicates;
nothing is ever lost. Rows are never deleted: delivered and dead rows are the audit trail.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests
from sqlalchemy import Row, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from ooi_status.config import Settings, display_url
from ooi_status.model.monitor import (
    DEAD,
    DELIVERED,
    EVENTS_SINK,
    PENDING,
    DeployedStream,
    PendingUpdate,
    ReferenceDesignator,
)

log = logging.getLogger(__name__)

# Rows per statement of the bulk writes (well under SQLite's bound-parameter limit).
_CHUNK = 500

_outbox = PendingUpdate.__table__


class DeliveryError(Exception):
    """A POST that did not deliver its event.

    ``permanent``: the event's own fault (a 4xx, a redirect, or an answer other than the one
    the destination acknowledges with: a 2xx other than 201 from the events API); it counts
    towards MAX_STATUS_POST_FAILURES, after which the event is dead. ``unreachable``: the
    destination is down (refused, timeout, 5xx); nothing more is sent to that sink this round,
    and the event is retried with backoff, never made dead.
    """

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable

    @classmethod
    def for_status(cls, status: int, url: str) -> DeliveryError:
        """The one place where an HTTP status that is not a success becomes an error kind."""
        if status >= 500:
            return cls(f"HTTP {status} from {url}", unreachable=True)
        if 400 <= status < 500:
            return cls(f"HTTP {status} from {url}", permanent=True)
        # A redirect (never followed: it would turn the POST into a GET) or a success that is
        # not the acknowledgement: the service answers, but not to this event. Retrying it for
        # ever would hold back every later event of its asset, so it counts like a 4xx.
        return cls(f"unexpected HTTP {status} from {url}", permanent=True)

    @classmethod
    def for_exception(cls, exc: Exception, url: str) -> DeliveryError:
        """Refused, timed out, reset, bad URL: not the event's fault, stop the sink. Except
        a message that cannot be sent as JSON at all (NaN): that one is the event's."""
        if isinstance(exc, requests.exceptions.InvalidJSONError):
            return cls(f"message is not valid JSON: {exc}", permanent=True)
        if isinstance(exc, requests.Timeout):
            return cls(f"timeout from {url}", unreachable=True)
        if isinstance(exc, requests.ConnectionError):
            return cls(f"connection failed to {url}: {type(exc).__name__}", unreachable=True)
        return cls(f"request to {url} failed: {type(exc).__name__}", unreachable=True)


class EventsClient:
    """POSTs events over one pooled HTTP session. Not thread-safe: one per deliverer."""

    def __init__(self, settings: Settings) -> None:
        self.root = f"{settings.NOTIFY_URL_ROOT}:{settings.NOTIFY_URL_PORT}"
        self.timeout = settings.NOTIFY_TIMEOUT
        self.session = requests.Session()
        # requests re-reads os.environ (proxies, CA bundle) on every call when trust_env is
        # on, a large part of the cost of a loopback POST. The environment is read once
        # instead: the CA bundle here, the proxies once per destination in _proxies_for().
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies: dict[str, dict[str, str]] = {}

    def url_for(self, sink: str, asset_uid: str) -> str:
        if sink == EVENTS_SINK:
            return f"{self.root}/events/postto/{quote(asset_uid, safe='')}"
        return sink

    def display_sink(self, sink: str) -> str:
        return display_url(self.root) + "/events/postto/" if sink == EVENTS_SINK else display_url(sink)

    def post(self, sink: str, asset_uid: str, message: dict[str, Any]) -> None:
        """Return when the sink acknowledged ``message``; raise DeliveryError otherwise."""
        self.post_json(
            self.url_for(sink, asset_uid), message, self.display_sink(sink), events=sink == EVENTS_SINK
        )

    def post_json(
        self, url: str, message: dict[str, Any], display: str, *, events: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        """POST ``message`` as JSON to ``url``: the events API must answer 201, others any 2xx."""
        try:
            # Prepared here rather than by Session.request(), which merges per-call the
            # session-level cookies, auth and environment this client never uses.
            request = requests.Request(
                "POST", url, json=message, headers={**self.session.headers, **(headers or {})}
            ).prepare()
            # Redirects are not followed: requests would turn the POST into a GET.
            response = self.session.send(
                request, timeout=self.timeout, allow_redirects=False, proxies=self._proxies_for(url)
            )
        except (requests.RequestException, ValueError) as exc:  # ValueError: a malformed webhook URL
            raise DeliveryError.for_exception(exc, display) from exc
        status = response.status_code
        if status == 201 or (not events and 200 <= status < 300):
            return
        raise DeliveryError.for_status(status, display)

    def _proxies_for(self, url: str) -> dict[str, str]:
        """The environment's proxies for this destination (NO_PROXY honoured), read once."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._proxies:
            self._proxies[key] = requests.utils.get_environ_proxies(url)
        return self._proxies[key]

    def close(self) -> None:
        self.session.close()


@dataclass
class DeliveryReport:
    """One round. ``failed``: failed attempts whose row stays pending; ``dead``: rows set
    aside this round; ``deferred``: rows read but not attempted (not due yet, claimed
    elsewhere, behind a failed event of their asset, or their sink unreachable);
    ``unreachable``: the sinks found unreachable, as URLs fit for logs (no secrets)."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    unreachable: list[str] = field(default_factory=list)


@dataclass
class _Round:
    """What the send step leaves for the record step."""

    deadline: float
    delivered: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    report: DeliveryReport = field(default_factory=DeliveryReport)
    last_error: str | None = None
    #: Outcomes per sink (as fit for logs): {"delivered": n, "failed": n, "dead": n}.
    by_sink: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, sink: str, outcome: str) -> None:
        self.by_sink.setdefault(sink, Counter())[outcome] += 1


class Sender(Protocol):
    """What a delivery round sends through: EventsClient, or ooi_status.monitor.sinks.Sinks."""

    def post(self, sink: str, asset_uid: str, message: dict[str, Any]) -> None: ...

    def display_sink(self, sink: str) -> str: ...


def deliver_due(
    session: Session, client: Sender, now: datetime, settings: Settings,
    fence: Callable[[Session], None] | None = None,
) -> DeliveryReport:  # fmt: skip
    """Deliver what is due at ``now``; one round, at most DELIVERY_BATCH_SIZE rows.

    ``session`` must have no transaction in progress: this function runs and commits its
    own two transactions (see the module docstring). Delivery errors never escape; database
    errors do, and leave at most claims behind, which expire after CLAIM_LEASE. ``fence`` ends
    the claim's transaction (its NotLeader escapes: nothing claimed, nothing sent). The record
    is not fenced: it writes only what was done with rows claimed while leading, guarded by
    their lease, and refusing it would only send delivered events again.
    """
    lease_until = now + timedelta(seconds=settings.CLAIM_LEASE)
    with session.begin():
        rows = _read_batch(session, settings.DELIVERY_BATCH_SIZE)
        claimed = _claim(session, [r.id for r in rows if r.next_attempt_at <= now], now, lease_until)
        if fence is not None:
            fence(session)
    sendable, held = _sendable(rows, claimed, now)
    # No POST starts after half the lease, so that the writes land while we hold the claims.
    result = _Round(deadline=time.monotonic() + settings.CLAIM_LEASE / 2, released=held)
    result.report.deferred = len(rows) - len(sendable)
    _send(sendable, client, now, settings, result)
    with session.begin():
        _record(session, result, now, lease_until)
    _log_round(result)
    return result.report


def _read_batch(session: Session, limit: int) -> Sequence[Row[Any]]:
    """At most ``limit`` pending rows, due or not (a row in backoff must still hold back the
    later rows of its queue), in id order: the head of every (sink, asset) queue first, then
    the second row of each, and so on. What is read of each queue is its first rows, so the
    order within a queue holds. ``refdes``: the instrument the event is about, for the logs."""
    position = func.row_number().over(
        partition_by=(_outbox.c.sink, _outbox.c.asset_uid), order_by=_outbox.c.id
    )
    queued = (
        select(_outbox.c.id, position.label("position")).where(_outbox.c.state == PENDING).subquery("queued")
    )
    heads = select(queued.c.id).order_by(queued.c.position, queued.c.id).limit(limit).subquery("heads")
    columns: list[Any] = [_outbox.c[name] for name in ("id", "sink", "asset_uid", "message", "attempts")]
    columns += [_outbox.c.error_count, _outbox.c.next_attempt_at, ReferenceDesignator.name.label("refdes")]
    query = (
        select(*columns)
        .select_from(_outbox)
        .join(heads, heads.c.id == _outbox.c.id)
        .outerjoin(DeployedStream, DeployedStream.id == _outbox.c.deployed_stream_id)
        .outerjoin(ReferenceDesignator, ReferenceDesignator.id == DeployedStream.reference_designator_id)
        .order_by(_outbox.c.id)
    )
    return session.execute(query).all()


def _about(row: Row[Any]) -> str:
    """An event as the logs name it: ``event 12 for CE01ISSM-MFD35-04-CTDBPN104 (asset CGINS-...)``."""
    if row.refdes:
        return f"event {row.id} for {row.refdes} (asset {row.asset_uid})"
    return f"event {row.id} for asset {row.asset_uid}"


def _claim(session: Session, ids: list[int], now: datetime, lease_until: datetime) -> set[int]:
    """Claim ``ids`` where no live claim exists; return the ids this deliverer now holds."""
    claimed: set[int] = set()
    for chunk in _chunks(ids):
        statement = (
            update(_outbox)
            .where(_outbox.c.id.in_(chunk), _outbox.c.state == PENDING)
            .where(or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until <= now))
            .values(claimed_until=lease_until)
            .returning(_outbox.c.id)
        )
        claimed.update(session.execute(statement).scalars())
    return claimed


def _sendable(rows: Sequence[Row[Any]], claimed: set[int], now: datetime) -> tuple[list[Row[Any]], list[int]]:
    """In id order, the rows that lead their (sink, asset) while due and ours; and the ids we
    claimed but must not send (behind a row that is not), whose claims are released."""
    blocked: set[tuple[str, str]] = set()
    sendable, held = [], []
    for row in rows:
        key = (row.sink, row.asset_uid)
        if key not in blocked and row.id in claimed and row.next_attempt_at <= now:
            sendable.append(row)
            continue
        blocked.add(key)
        if row.id in claimed:
            held.append(row.id)
    return sendable, held


def _send(rows: list[Row[Any]], client: Sender, now: datetime, settings: Settings, result: _Round) -> None:
    """POST in queue order. A failure holds back the later events of its asset; an
    unreachable sink holds back all of its events: one timeout per sink and round."""
    failed: set[tuple[str, str]] = set()
    unreachable: set[str] = set()
    for row in rows:
        if (
            row.sink in unreachable
            or (row.sink, row.asset_uid) in failed
            or time.monotonic() > result.deadline
        ):
            _hold(row, result)
            continue
        sink = client.display_sink(row.sink)
        try:
            client.post(row.sink, row.asset_uid, row.message)
        except DeliveryError as error:
            failure = _failure(row, error, now, settings, result)
            result.failures.append(failure)
            result.count(sink, "dead" if failure["new_state"] == DEAD else "failed")
            failed.add((row.sink, row.asset_uid))
            if error.unreachable:
                unreachable.add(row.sink)
                result.report.unreachable.append(client.display_sink(row.sink))
                log.warning(
                    "delivery: %s unreachable (%s); its events wait for the next round",
                    client.display_sink(row.sink),
                    error,
                )
            continue
        log.debug("delivery: %s delivered to %s", _about(row), sink)
        result.delivered.append(row.id)
        result.report.delivered += 1
        result.count(sink, "delivered")


def _hold(row: Row[Any], result: _Round) -> None:
    """A claimed row not attempted this round: released for the next one."""
    result.released.append(row.id)
    result.report.deferred += 1


def _failure(
    row: Row[Any], error: DeliveryError, now: datetime, settings: Settings, result: _Round
) -> dict[str, Any]:
    """The new values of a row whose POST failed: exact, not relative, as we hold its claim."""
    log.debug("delivery: %s failed: %s", _about(row), error)
    attempts, error_count, state = row.attempts + 1, row.error_count, PENDING
    next_attempt_at = row.next_attempt_at
    if error.permanent:
        error_count += 1
        if error_count >= settings.MAX_STATUS_POST_FAILURES:
            state = DEAD
            # Set aside for good: one line each even at INFO, an operator acts on these.
            log.warning("delivery: %s is dead: %s", _about(row), error)
    else:
        next_attempt_at = now + retry_delay(attempts, settings)
    if state == DEAD:
        result.report.dead += 1
    else:
        result.report.failed += 1
    result.last_error = str(error)
    return {
        "row_id": row.id,
        "new_state": state,
        "new_attempts": attempts,
        "new_error_count": error_count,
        "new_next_attempt_at": next_attempt_at,
        "new_last_error": str(error),
    }


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    """RETRY_BACKOFF after the first failed attempt, doubling, at most RETRY_BACKOFF_MAX."""
    backoff, cap = settings.RETRY_BACKOFF, settings.RETRY_BACKOFF_MAX
    return timedelta(seconds=min(backoff * 2 ** min(attempts - 1, 32), cap))


def _record(session: Session, result: _Round, now: datetime, lease_until: datetime) -> None:
    """Write the round's outcomes. Every UPDATE is guarded by our lease value: a row whose
    claim expired and was taken by another deliverer is theirs, and left alone."""
    ours = _outbox.c.claimed_until == lease_until
    for chunk in _chunks(result.delivered):
        delivered = update(_outbox).where(_outbox.c.id.in_(chunk), ours)
        session.execute(
            delivered.values(
                state=DELIVERED, delivered_at=now, attempts=_outbox.c.attempts + 1, claimed_until=None
            )
        )
    if result.failures:
        failed = update(_outbox).where(_outbox.c.id == bindparam("row_id"), ours)
        columns = ("state", "attempts", "error_count", "next_attempt_at", "last_error")
        values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
        session.execute(failed.values(claimed_until=None, **values), result.failures)
    for chunk in _chunks(result.released):
        released = update(_outbox).where(_outbox.c.id.in_(chunk), ours)
        session.execute(released.values(claimed_until=None))


def _log_round(result: _Round) -> None:
    """One INFO line per round that did something: totals, then each sink's outcomes."""
    report = result.report
    if not (report.delivered or report.failed or report.dead):
        return
    sinks = "; ".join(
        f"{sink}: " + ", ".join(f"{counts[outcome]} {outcome}" for outcome in ("delivered", "failed", "dead"))
        for sink, counts in sorted(result.by_sink.items())
    )
    log.info(
        "delivery: %d delivered, %d failed, %d dead, %d deferred (%s)%s",
        report.delivered,
        report.failed,
        report.dead,
        report.deferred,
        sinks,
        f" (last error: {result.last_error})" if result.last_error else "",
    )


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
