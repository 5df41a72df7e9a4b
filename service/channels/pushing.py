"""The pipeline's two steps after commit: plan (outbox rows → one delivery per channel of
the group) and push (each channel's due deliveries → one HTTP push, recorded), both a batch
at a time. Plus the sweeper.

Why nothing is lost and nothing is pushed twice:
- planning marks the outbox row done in the same transaction that writes the deliveries, and
  the deliveries are unique per (channel, message): a planning job run twice owes once;
- a push first takes the channel's lease and marks its deliveries `sending`, each under a
  lease of its own with the push's token (committed), then sends, then records the outcome
  (committed): it settles only the deliveries still claimed under its token, and releases the
  channel's lease if it still holds it. Only the lease holder pushes to a channel, so two
  live workers never send the same delivery;
- the leases run one request timeout and a margin past their last renewal, and are renewed
  while the push waits for a thread, is sent and is recorded: a killed worker's leases lapse
  within that, however many channels its batch held;
- a `sending` delivery whose own lease has lapsed is owed again, whatever became of its
  channel's lease: the next push to hold the channel takes it with the pending ones (in
  message order), and the sweeper puts it back to `pending` on any channel. Whether the
  receiver got the interrupted request cannot be known, so it is sent again with the same
  idempotency key (`webhook-id`), which the Standard Webhooks receivers deduplicate on;
- a record that cannot reach the database is tried again, with backoff, for a while: an
  outcome is lost (and the push sent again) only past that;
- the sweeper also re-enqueues outbox rows and due deliveries whose jobs were lost.

Order within a channel: a push takes a channel's owed deliveries oldest message first, and
stops at the first that must wait (backoff, rate limit, …); while the oldest waits, so does
everything after it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from service.chain.models import Chain, Member
from service.channels import formats
from service.channels.models import (
    Channel,
    ChannelState,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    HeldFor,
    delivery_key,
)
from service.channels.schedule import (
    PAUSE_AFTER,
    RATE_WINDOW,
    backoff,
    quiet_until,
    rate_limited_until,
    retry_after,
)
from service.channels.urls import BlockedUrl, OutboundPolicy, check_url
from service.customers.models import Customer
from service.db import among, new_id, utcnow
from service.groups.models import DeliveryGroup, Message
from service.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

# Messages coalesced into one push at most; the rest go in the next.
MAX_PER_PUSH = 20
# A push's leases outlive one request timing out by this much.
LEASE_MARGIN = timedelta(seconds=5)
# A channel another worker is pushing to is looked at again after this.
BUSY_RETRY = timedelta(seconds=1)
# Bodies read from a receiver at most: enough for any error message, never a flood.
MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PushSettings:
    timeout: float = 15.0
    # Requests a worker has in flight at once (its sending threads).
    concurrency: int = 1
    coalesce_window: timedelta = timedelta(seconds=10)
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)


def _locking(session: Session, query):
    # PostgreSQL: workers draining together each take different rows. SQLite's writers are
    # serialised by BEGIN IMMEDIATE already.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def plan(
    session: Session,
    outbox_ids: list[uuid.UUID] | None = None,
    *,
    limit: int = 500,
    now: datetime | None = None,
) -> tuple[set, int]:
    """Turn outbox rows (these, or else the oldest pending) into deliveries owed to the
    channels of each message's group, and mark the rows done. Returns the ids of the active
    channels that now owe something, and how many rows were taken."""
    now = now or utcnow()
    query = select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload).where(
        OutboxEvent.done_at.is_(None)
    )
    if outbox_ids is not None:
        query = query.where(among(session, OutboxEvent.id, outbox_ids))
    rows = session.execute(_locking(session, query.order_by(OutboxEvent.id).limit(limit))).all()
    if not rows:
        return set(), 0
    message_ids = [
        uuid.UUID(row.payload["message_id"]) for row in rows if row.topic == "message.posted"
    ]
    touched: set[uuid.UUID] = set()
    if message_ids:
        messages = session.execute(
            select(Message.id, Message.chain_id, Message.group_id, Message.payload).where(
                among(session, Message.id, message_ids)
            )
        ).all()
        groups = {m.group_id for m in messages}
        channels = session.execute(
            select(Channel.id, Channel.group_id, Channel.state).where(
                among(session, Channel.group_id, groups),
                Channel.removed_at.is_(None),
                Channel.state != ChannelState.DISABLED,
            )
        ).all()
        by_group: dict[uuid.UUID, list] = {}
        for channel in channels:
            by_group.setdefault(channel.group_id, []).append(channel)
        owed = set(
            session.execute(
                select(Delivery.channel_id, Delivery.message_id).where(
                    among(session, Delivery.message_id, message_ids)
                )
            ).all()
        )
        new = []
        for message in messages:
            for channel in by_group.get(message.group_id, ()):
                if (channel.id, message.id) in owed or _about(message, channel.id):
                    continue
                new.append(
                    {
                        "id": new_id(),
                        "chain_id": message.chain_id,
                        "channel_id": channel.id,
                        "message_id": message.id,
                        "due_at": now,
                        "created_at": now,
                    }
                )
                if channel.state == ChannelState.ACTIVE:
                    touched.add(channel.id)
        if new:
            session.execute(insert(Delivery.__table__), new)
    session.execute(
        update(OutboxEvent.__table__)
        .where(among(session, OutboxEvent.id, [row.id for row in rows]))
        .values(done_at=now)
    )
    return touched, len(rows)


def _about(message, channel_id: uuid.UUID) -> bool:
    # A notice that a channel is paused is for the group, not for that channel's backlog.
    return bool(message.payload) and message.payload.get("channel_id") == str(channel_id)


# What a push needs of its channel.
_PUSHING = (
    Channel.id,
    Channel.chain_id,
    Channel.group_id,
    Channel.type,
    Channel.url,
    Channel.secret,
    Channel.customer_facing,
    Channel.rate_limit_per_minute,
    Channel.last_pushed_at,
)


@dataclass
class Claim:
    """A push a worker has taken: the channel, its deliveries and the requests to send."""

    channel_id: uuid.UUID
    channel_type: str
    lease_token: uuid.UUID
    push_id: uuid.UUID
    delivery_ids: list[uuid.UUID]
    requests: list[formats.HttpRequest]
    started_at: datetime


def lease_for(settings: PushSettings) -> timedelta:
    """How long a push's leases run from their last renewal: one request timing out, and a
    margin. Renewed while the push waits for a sending thread and while it is sent, so a dead
    worker's leases lapse this long after it died at most, whatever its batch held."""
    return timedelta(seconds=settings.timeout) + LEASE_MARGIN


def claim(
    session: Session,
    channel_ids: list[uuid.UUID],
    settings: PushSettings,
    now: datetime | None = None,
) -> tuple[list[Claim], dict[uuid.UUID, datetime | None]]:
    """Take the leases of the channels that may push now, with what each owes, oldest
    message first; a few statements for the whole batch. Returns the claims, and for every
    other channel when it should be looked at again (None: nothing owed)."""
    now = now or utcnow()
    token = uuid.uuid4()
    lease_until = now + lease_for(settings)
    channels = {
        c.id: c
        for c in session.execute(
            update(Channel.__table__)
            .where(
                among(session, Channel.id, channel_ids),
                Channel.state == ChannelState.ACTIVE,
                Channel.removed_at.is_(None),
                (Channel.lease_until.is_(None)) | (Channel.lease_until <= now),
            )
            .values(lease_until=lease_until, lease_token=token)
            .returning(*_PUSHING)
        )
    }
    taken = set(channels)
    later: dict[uuid.UUID, datetime | None] = {cid: None for cid in channel_ids if cid not in taken}
    if later:
        # Held by another worker, which may have looked for more to send before what made us
        # come here was committed: look again shortly rather than leave it to the sweeper.
        for cid in session.scalars(
            select(Channel.id).where(
                among(session, Channel.id, later),
                Channel.state == ChannelState.ACTIVE,
                Channel.lease_until > now,
            )
        ):
            later[cid] = now + BUSY_RETRY
    if not taken:
        return [], later
    due, waiting = _ready(_owed(session, taken), now)
    chains = {
        c.id: c
        for c in session.execute(
            select(Chain.id, Chain.timezone, Chain.quiet_hours_start, Chain.quiet_hours_end).where(
                among(session, Chain.id, {c.chain_id for c in channels.values()})
            )
        )
    }
    holds = waiting | _gates(session, [channels[cid] for cid in due], chains, now, settings)
    for cid, (gate, reason) in holds.items():
        # Held (its oldest waiting, or a gate closed): everything it owes is due when that
        # one may go, and says why, so that nothing newer goes first and the sweeper does
        # not take them for lost in the meantime.
        session.execute(
            update(Delivery)
            .where(
                Delivery.channel_id == cid,
                ((Delivery.state == DeliveryState.PENDING) & (Delivery.due_at < gate))
                | ((Delivery.state == DeliveryState.SENDING) & _lapsed(now)),
            )
            .values(
                state=DeliveryState.PENDING,
                due_at=gate,
                held_for=reason,
                lease_until=None,
                lease_token=None,
            )
            .execution_options(synchronize_session=False)
        )
        later[cid] = gate
        due.pop(cid, None)
    released = [cid for cid in taken if cid not in due]
    later.update((cid, None) for cid in released if cid not in holds)
    if released:
        session.execute(
            update(Channel.__table__)
            .where(among(session, Channel.id, released), Channel.lease_token == token)
            .values(lease_until=None, lease_token=None)
        )
    if not due:
        return [], later

    messages = _outgoing(session, [d for owed in due.values() for d in owed])
    claims = []
    for cid, owed in due.items():
        channel = channels[cid]
        requests = formats.build_requests(
            channel.type,
            channel.url,
            channel.secret,
            [messages[d.id] for d in owed],
            timezone=chains[channel.chain_id].timezone,
            now=now,
        )
        claims.append(
            Claim(cid, channel.type, token, uuid.uuid4(), [d.id for d in owed], requests, now)
        )
    # Being sent, each under this push's lease of its own: a worker that dies now leaves them
    # to whoever holds the channel once it lapses.
    session.execute(
        update(Delivery)
        .where(among(session, Delivery.id, [i for c in claims for i in c.delivery_ids]))
        .values(
            state=DeliveryState.SENDING,
            lease_until=lease_until,
            lease_token=token,
            held_for=None,
        )
        .execution_options(synchronize_session=False)
    )
    return claims, later


def next_due(session: Session, channel_ids) -> dict[uuid.UUID, datetime | None]:
    """When each channel next owes something (None: nothing pending)."""
    found = (
        dict(
            session.execute(
                select(Delivery.channel_id, func.min(Delivery.due_at))
                .where(
                    among(session, Delivery.channel_id, channel_ids),
                    Delivery.state == DeliveryState.PENDING,
                )
                .group_by(Delivery.channel_id)
            ).all()
        )
        if channel_ids
        else {}
    )
    return {cid: found.get(cid) for cid in channel_ids}


def _lapsed(now: datetime):
    return Delivery.lease_until.is_(None) | (Delivery.lease_until <= now)


def _owed(session: Session, channel_ids) -> dict[uuid.UUID, list]:
    """What each channel owes, oldest message first, at most a push's worth: pending
    deliveries, and those being sent (by a push whose lease may have lapsed)."""
    place = (
        func.row_number()
        .over(partition_by=Delivery.channel_id, order_by=(Delivery.message_id, Delivery.id))
        .label("place")
    )
    owed = (
        select(
            Delivery.id,
            Delivery.channel_id,
            Delivery.message_id,
            Delivery.replays,
            Delivery.state,
            Delivery.due_at,
            Delivery.lease_until,
            Delivery.held_for,
            place,
        )
        .where(
            among(session, Delivery.channel_id, channel_ids),
            Delivery.state.in_((DeliveryState.PENDING, DeliveryState.SENDING)),
        )
        .subquery()
    )
    found: dict[uuid.UUID, list] = {}
    for row in session.execute(
        select(owed).where(owed.c.place <= MAX_PER_PUSH).order_by(owed.c.channel_id, owed.c.place)
    ):
        found.setdefault(row.channel_id, []).append(row)
    return found


def _ready(owed: dict[uuid.UUID, list], now: datetime) -> tuple[dict, dict]:
    """Split what channels owe into what may go now (the oldest deliveries, up to the first
    that must wait) and, for channels whose oldest must wait, until when and why."""
    due, waiting = {}, {}
    for cid, rows in owed.items():
        ready = []
        for row in rows:
            if row.state == DeliveryState.PENDING:
                if row.due_at <= now:
                    ready.append(row)
                    continue
                until, reason = row.due_at, row.held_for
            elif row.lease_until is None or row.lease_until <= now:
                ready.append(row)  # its push died: sent again, under the same key
                continue
            else:
                until, reason = row.lease_until, None  # another push still has it
            if not ready:
                waiting[cid] = (until, reason)
            break
        if ready:
            due[cid] = ready
    return due, waiting


def _gates(
    session: Session, channels: list[Channel], chains: dict, now: datetime, settings: PushSettings
) -> dict[uuid.UUID, tuple[datetime, str]]:
    """The channels that may not push yet, and when they may: after the coalescing window of
    their last push, under their rate limit, outside quiet hours if customer-facing; and
    which of these holds them longest."""
    if not channels:
        return {}
    recent: dict[uuid.UUID, list] = {}
    for cid, started, requests in session.execute(
        select(
            DeliveryAttempt.channel_id,
            func.min(DeliveryAttempt.started_at),
            func.max(DeliveryAttempt.requests),
        )
        .where(
            among(session, DeliveryAttempt.channel_id, [c.id for c in channels]),
            DeliveryAttempt.started_at > now - RATE_WINDOW,
        )
        .group_by(DeliveryAttempt.channel_id, DeliveryAttempt.push_id)
    ):
        recent.setdefault(cid, []).append((started, requests))
    gates = {}
    for channel in channels:
        waits = []
        if channel.last_pushed_at and now < channel.last_pushed_at + settings.coalesce_window:
            waits.append((channel.last_pushed_at + settings.coalesce_window, HeldFor.COALESCING))
        limited = rate_limited_until(recent.get(channel.id, []), channel.rate_limit_per_minute, now)
        if limited:
            waits.append((limited, HeldFor.RATE_LIMIT))
        if channel.customer_facing:
            chain = chains[channel.chain_id]
            quiet = quiet_until(now, chain.timezone, chain.quiet_hours_start, chain.quiet_hours_end)
            if quiet:
                waits.append((quiet, HeldFor.QUIET_HOURS))
        if waits:
            gates[channel.id] = max(waits)
    return gates


def _outgoing(session: Session, deliveries: list) -> dict[uuid.UUID, formats.OutgoingMessage]:
    """Each delivery's message as it is sent, by delivery id."""
    rows = session.execute(
        select(
            Message.id,
            Message.group_id,
            Message.kind,
            Message.sender,
            Message.text,
            Message.payload,
            Message.created_at,
            DeliveryGroup.name.label("group_name"),
            func.coalesce(Member.name, Customer.name).label("sender_name"),
        )
        .join(DeliveryGroup, DeliveryGroup.id == Message.group_id)
        .outerjoin(Member, Member.id == Message.sender_member_id)
        .outerjoin(
            Customer, (Customer.id == DeliveryGroup.customer_id) & (Message.sender == "customer")
        )
        .where(among(session, Message.id, [d.message_id for d in deliveries]))
    ).all()
    by_id = {message.id: message for message in rows}
    outgoing = {}
    for delivery in deliveries:
        message = by_id[delivery.message_id]
        outgoing[delivery.id] = formats.OutgoingMessage(
            key=delivery_key(delivery.id, delivery.replays),
            message_id=str(message.id),
            group_id=str(message.group_id),
            group_name=message.group_name,
            kind=message.kind,
            sender=message.sender,
            sender_name=message.sender_name,
            text=message.text,
            payload=message.payload,
            created_at=message.created_at,
        )
    return outgoing


@dataclass
class Result:
    """What one push came to."""

    outcome: str  # delivered, retry, rate_limited, gone, timeout, error, blocked
    status_code: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str | None = None
    retry_after: float | None = None
    requests: int = 0

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


def send(client: httpx.Client, push: Claim, settings: PushSettings) -> Result:
    """Send a claimed push's requests in order, stopping at the first that fails. Runs
    outside any transaction."""
    started = time.perf_counter()
    result = Result("delivered")
    for request in push.requests:
        result.requests += 1
        try:
            check_url(request.url, settings.policy)
            with client.stream(
                "POST",
                request.url,
                content=request.body,
                headers=request.headers,
                timeout=settings.timeout,
                follow_redirects=False,
            ) as response:
                body = _read_at_most(response, MAX_REPLY_BYTES)
        except BlockedUrl as error:
            result = Result("blocked", error=error.reason, requests=result.requests)
            break
        except httpx.TimeoutException:
            result = Result("timeout", error=f"No answer in {settings.timeout:g} s.")
            result.requests = len(push.requests)
            break
        except httpx.HTTPError as error:
            result = Result("error", error=f"{type(error).__name__}: {error}"[:300])
            result.requests = len(push.requests)
            break
        reply = formats.read_reply(
            push.channel_type, response.status_code, response.headers, body, now=utcnow()
        )
        result.status_code = response.status_code
        result.excerpt = formats.excerpt(body)
        if not reply.ok:
            result.outcome = (
                "gone" if reply.gone else "rate_limited" if reply.rate_limited else "retry"
            )
            result.error = reply.error
            result.retry_after = reply.retry_after
            break
    result.latency_ms = round((time.perf_counter() - started) * 1000)
    return result


def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def record(
    session: Session,
    pushes: list[tuple[Claim, Result]],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> dict[uuid.UUID, datetime | None]:
    """Keep every attempt in the delivery log, settle the deliveries still claimed under
    each push's token, release the leases still held. Returns when each channel next owes
    something (None: nothing)."""
    now = now or utcnow()
    channel_ids = [push.channel_id for push, _ in pushes]
    channels = {
        c.id: c
        for c in session.execute(
            select(Channel.id, Channel.chain_id, Channel.lease_token).where(
                among(session, Channel.id, channel_ids)
            )
        )
    }
    session.execute(
        insert(DeliveryAttempt.__table__),
        [
            {
                "id": new_id(),
                "chain_id": channels[push.channel_id].chain_id,
                "channel_id": push.channel_id,
                "delivery_id": delivery_id,
                "push_id": push.push_id,
                "started_at": push.started_at,
                "requests": max(result.requests, 1),
                "outcome": result.outcome,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "response_excerpt": result.excerpt,
                "error": result.error,
            }
            for push, result in pushes
            for delivery_id in push.delivery_ids
        ],
    )
    # A lease that ran out mid-push may have been taken by another push: the log keeps what
    # happened; a delivery is settled only while it is still claimed under our token, and
    # the channel touched only while we still hold it.
    _delivered(session, [(push, result) for push, result in pushes if result.delivered], now)
    failed = [(push, result) for push, result in pushes if not result.delivered]
    if failed:
        # The rare path, through the unit of work: back-offs, pauses, notices.
        failing = {
            c.id: c
            for c in session.scalars(
                select(Channel)
                .where(among(session, Channel.id, [push.channel_id for push, _ in failed]))
                .execution_options(populate_existing=True)
            )
        }
        deliveries = {
            d.id: d
            for d in session.scalars(
                select(Delivery).where(
                    among(
                        session, Delivery.id, [i for push, _ in failed for i in push.delivery_ids]
                    ),
                    Delivery.state == DeliveryState.SENDING,
                    Delivery.lease_token == failed[0][0].lease_token,
                )
            )
        }
        for push, result in failed:
            owed = [deliveries[i] for i in push.delivery_ids if i in deliveries]
            channel = failing[push.channel_id]
            held = channel.lease_token == push.lease_token
            _failed(session, channel if held else None, owed, push, result, now, rng)
        session.flush()
    ours = [
        push.channel_id
        for push, _ in pushes
        if channels[push.channel_id].lease_token == push.lease_token
    ]
    return next_due(session, ours)


def _delivered(session: Session, pushes: list[tuple[Claim, Result]], now: datetime) -> None:
    """The common case, for the whole batch in two statements: delivered, lease released."""
    if not pushes:
        return
    first = pushes[0][0]  # one claim: one token, one start for all
    session.execute(
        update(Delivery)
        .where(
            among(session, Delivery.id, [i for push, _ in pushes for i in push.delivery_ids]),
            Delivery.state == DeliveryState.SENDING,
            Delivery.lease_token == first.lease_token,
        )
        .values(
            state=DeliveryState.DELIVERED,
            delivered_at=now,
            last_error=None,
            lease_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Channel)
        .where(
            among(session, Channel.id, [push.channel_id for push, _ in pushes]),
            Channel.lease_token == first.lease_token,
        )
        .values(
            lease_until=None,
            lease_token=None,
            last_pushed_at=first.started_at,
            failing_since=None,
        )
        .execution_options(synchronize_session=False)
    )


def _failed(session, channel, deliveries, push, result, now, rng) -> None:
    """A push that did not go through: disable, wait as told, or back off and maybe pause.
    `channel` is None when its lease passed to another push meanwhile: only the deliveries
    still ours are settled then."""
    for delivery in deliveries:
        delivery.lease_until = delivery.lease_token = None
    if channel is not None:
        channel.lease_until = channel.lease_token = None
        channel.last_pushed_at = push.started_at
    if result.outcome == "gone":
        if channel is not None:
            _disable(session, channel, result.error or "The endpoint answered 410 Gone.", now)
        for delivery in deliveries:
            delivery.state = DeliveryState.FAILED
            delivery.last_error = result.error
    elif result.outcome == "rate_limited":
        # Not the endpoint failing: wait as told, without counting it against the channel.
        for delivery in deliveries:
            delivery.state = DeliveryState.PENDING
            delivery.due_at = now + retry_after(result.retry_after)
            delivery.held_for = HeldFor.RATE_LIMIT
            delivery.last_error = result.error
    else:
        # One wait for the push: its deliveries go again together, in their order.
        wait = backoff(max((d.attempts for d in deliveries), default=0) + 1, rng)
        if result.retry_after:
            wait = max(wait, retry_after(result.retry_after))
        for delivery in deliveries:
            delivery.attempts += 1
            delivery.state = DeliveryState.PENDING
            delivery.due_at = now + wait
            delivery.held_for = HeldFor.BACKOFF
            delivery.last_error = result.error
        if channel is not None:
            channel.failing_since = channel.failing_since or push.started_at
            if now - channel.failing_since >= PAUSE_AFTER:
                _pause(session, channel, now)


def _disable(session: Session, channel: Channel, reason: str, now: datetime) -> None:
    channel.state = ChannelState.DISABLED
    channel.state_reason = reason[:300]
    session.execute(
        update(Delivery)
        .where(Delivery.channel_id == channel.id, Delivery.state == DeliveryState.PENDING)
        .values(state=DeliveryState.FAILED, last_error="The channel is disabled.")
        .execution_options(synchronize_session=False)
    )


def _pause(session: Session, channel: Channel, now: datetime) -> None:
    from service.groups.messages import post_system_message

    channel.state = ChannelState.PAUSED
    channel.state_reason = f"Failing since {channel.failing_since:%Y-%m-%d %H:%M} UTC."
    label = channel.name or channel.type
    post_system_message(
        session,
        group=session.get(DeliveryGroup, channel.group_id),
        kind="notice",
        text=f"Pushes to {label} are paused: it has failed for 24 hours. "
        "They will resume, with nothing missed, once the channel is resumed.",
        payload={"channel_id": str(channel.id)},
    )


def push_channels(
    db,
    client: httpx.Client,
    channel_ids: list[uuid.UUID],
    settings: PushSettings,
    on_result: Callable[[str, Result], None] | None = None,
    send_many: Callable | None = None,
) -> dict[uuid.UUID, datetime | None]:
    """One round of pushes for a batch of channels: claim (one transaction), send (no
    transaction open; `send_many` may send them side by side), record (one transaction,
    retried while the database is away). The leases are renewed until the outcome is
    recorded. Returns when each channel should be looked at again (None: not for now)."""
    with db.session() as session:
        claims, later = claim(session, channel_ids, settings)
        session.commit()
    if not claims:
        return later
    with _Renewing(db, claims, settings):
        send_one = lambda push: send(client, push, settings)  # noqa: E731
        results = list((send_many or map)(send_one, claims))
        if on_result:
            for push, result in zip(claims, results, strict=True):
                on_result(push.channel_type, result)
        later.update(record_patiently(db, list(zip(claims, results, strict=True))))
    return later


def renew(session: Session, claims: list[Claim], until: datetime) -> None:
    """Extend a batch's leases, those still its own: its channels' and its deliveries'."""
    token = claims[0].lease_token
    session.execute(
        update(Channel)
        .where(
            among(session, Channel.id, [c.channel_id for c in claims]), Channel.lease_token == token
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(
            among(session, Delivery.id, [i for c in claims for i in c.delivery_ids]),
            Delivery.lease_token == token,
            Delivery.state == DeliveryState.SENDING,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


class _Renewing:
    """Renews a batch's leases a few times per lease while its pushes wait for a sending
    thread, are sent and are recorded; a batch done within a quarter lease costs nothing."""

    def __init__(self, db, claims: list[Claim], settings: PushSettings):
        self.db, self.claims, self.lease = db, claims, lease_for(settings)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease-renewal", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.done.wait(self.lease.total_seconds() / 4):
            try:
                with self.db.session() as session:
                    renew(session, self.claims, utcnow() + self.lease)
                    session.commit()
            except Exception:
                log.warning("Could not renew the leases of a push", exc_info=True)


# How long a worker keeps trying to record what it sent while the database is away, and the
# longest wait between two tries. Past this the outcome is lost and the push is sent again
# (same idempotency key) once its leases lapse.
RECORD_PATIENCE = timedelta(minutes=2)
RECORD_RETRY_MAX = 2.0


def record_patiently(db, pushes: list[tuple[Claim, Result]]) -> dict[uuid.UUID, datetime | None]:
    """`record`, committed; tried again with backoff while the database cannot be reached
    (restarting, failing over), so that the log says what was sent."""
    deadline = time.monotonic() + RECORD_PATIENCE.total_seconds()
    wait = 0.1
    while True:
        try:
            with db.session() as session:
                later = record(session, pushes)
                session.commit()
                return later
        except (OperationalError, InterfaceError):
            if time.monotonic() + wait > deadline:
                raise
            log.warning("Could not record %d pushes; trying again in %.1f s", len(pushes), wait)
            time.sleep(wait)
            wait = min(wait * 2, RECORD_RETRY_MAX)


@dataclass(frozen=True)
class Swept:
    outbox_ids: list[uuid.UUID]
    channel_ids: list[uuid.UUID]


def sweep(session: Session, *, deadline: timedelta, now: datetime | None = None) -> Swept:
    """Find what lost jobs left behind: outbox rows not done, sends cut off mid-way (a
    delivery's own lease lapsed, whoever holds its channel now), deliveries overdue. The
    caller enqueues jobs for them."""
    from service.outbox.outbox import overdue

    now = now or utcnow()
    outbox_ids = overdue(session, deadline=deadline, now=now)
    # Back to pending, in their place (message order): the next push of their channel takes
    # them, paused or not, whatever happened to the lease of the push that sent them.
    cut_off = session.scalars(
        update(Delivery)
        .where(Delivery.state == DeliveryState.SENDING, _lapsed(now))
        .values(state=DeliveryState.PENDING, due_at=now, lease_until=None, lease_token=None)
        .returning(Delivery.channel_id)
        .execution_options(synchronize_session=False)
    ).all()
    expired = session.scalars(
        select(Channel.id).where(Channel.lease_until.is_not(None), Channel.lease_until < now)
    ).all()
    overdue_channels = session.scalars(
        select(Delivery.channel_id)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(
            Delivery.state == DeliveryState.PENDING,
            Delivery.due_at < now - min(deadline, timedelta(seconds=5)),
            Channel.state == ChannelState.ACTIVE,
            Channel.removed_at.is_(None),
        )
        .distinct()
        .limit(1000)
    ).all()
    return Swept(outbox_ids, sorted(set(overdue_channels) | set(expired) | set(cut_off)))
