"""A group's channels: add, list, change, remove; their delivery log and replays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.channels.models import (
    CHANNEL_TYPES,
    DEFAULT_RATE_LIMIT,
    Channel,
    ChannelState,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    HeldFor,
)
from service.channels.urls import CheckedUrl
from service.db import get_in_chain, utcnow
from service.errors import Conflict, Invalid, no_such
from service.groups.models import DeliveryGroup
from service.notify import formats
from service.notify.outbox import emit
from service.notify.topics import channel_resumed, delivery_retried
from service.pagination import Page, paginate

MAX_CHANNELS_PER_GROUP = 10
# A brand may pause and resume; "disabled" is the endpoint's verdict (410), also resumable.
SETTABLE_STATES = (ChannelState.ACTIVE, ChannelState.PAUSED)


def create_channel(
    session: Session,
    *,
    chain_id: uuid.UUID,
    group_id: uuid.UUID,
    type: str,
    url: CheckedUrl,
    secret: str | None = None,
    name: str = "",
    customer_facing: bool | None = None,
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
) -> tuple[Channel, str | None]:
    """Add a channel to a group. Returns it and, for a `webhook` channel given no secret,
    the secret made for it (shown this once). Unless told, a `webhook` channel is
    customer-facing (a brand's callback may reach the customer) and a robot is not: it posts
    into a staff group, which a customer cannot join. The URL was checked by the caller
    (validate_channel_url), before the transaction."""
    group = get_in_chain(session, DeliveryGroup, chain_id, group_id)
    if type not in CHANNEL_TYPES:
        raise Invalid.field("type", f"One of {', '.join(CHANNEL_TYPES)}.")
    secret = formats.validate_secret(type, secret)
    shown = None
    if type == "webhook" and secret is None:
        secret = shown = formats.new_webhook_secret()
    live = session.scalars(
        select(Channel.id).where(Channel.group_id == group.id, Channel.removed_at.is_(None))
    ).all()
    if len(live) >= MAX_CHANNELS_PER_GROUP:
        raise Conflict(
            f"A group has at most {MAX_CHANNELS_PER_GROUP} channels.", code="too_many_channels"
        )
    channel = Channel(
        chain_id=chain_id,
        group_id=group.id,
        type=type,
        url=url,
        secret=secret,
        name=name,
        customer_facing=type == "webhook" if customer_facing is None else customer_facing,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(channel)
    session.flush()
    return channel, shown


def list_channels(session: Session, *, chain_id: uuid.UUID, group_id: uuid.UUID) -> list[Channel]:
    group = get_in_chain(session, DeliveryGroup, chain_id, group_id)
    return list(
        session.scalars(
            select(Channel)
            .where(Channel.group_id == group.id, Channel.removed_at.is_(None))
            .order_by(Channel.id)
        )
    )


def get_channel(session: Session, chain_id: uuid.UUID, channel_id: uuid.UUID) -> Channel:
    channel = get_in_chain(session, Channel, chain_id, channel_id)
    if channel.removed_at:
        raise no_such("channel")
    return channel


def update_channel(
    session: Session,
    *,
    chain_id: uuid.UUID,
    channel_id: uuid.UUID,
    **changes,
) -> Channel:
    """Change a channel (a new `url` checked by the caller, validate_channel_url). Resumed,
    it is pushed what it owes (through the outbox): nothing held while it was paused is
    lost."""
    channel = get_channel(session, chain_id, channel_id)
    if "url" in changes:
        channel.url = changes.pop("url")
    if "secret" in changes:
        secret = formats.validate_secret(channel.type, changes.pop("secret"))
        if secret is None and channel.type == "webhook":
            # Its pushes are signed: without a secret none could be built.
            raise Invalid.field("secret", "A webhook channel keeps a whsec_ secret.")
        channel.secret = secret
    state = changes.pop("state", None)
    if state is not None and state != channel.state:
        if state not in SETTABLE_STATES:
            raise Invalid.field("state", "Set 'active' to resume or 'paused' to pause.")
        resumed = state == ChannelState.ACTIVE
        channel.state = state
        channel.state_reason = None if resumed else "Paused by the brand."
        channel.failing_since = None
        if resumed:
            _due_now(session, channel)
            emit(session, channel_resumed(chain_id, channel.id))
    for name, value in changes.items():
        setattr(channel, name, value)
    session.flush()
    return channel


def _due_now(session: Session, channel: Channel) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.channel_id == channel.id, Delivery.state == DeliveryState.PENDING)
        .values(due_at=utcnow(), held_for=None)
        .execution_options(synchronize_session=False)
    )


def remove_channel(session: Session, *, chain_id: uuid.UUID, channel_id: uuid.UUID) -> None:
    """Stop pushing to a channel. Its log stays; what it still owed is given up."""
    channel = get_channel(session, chain_id, channel_id)
    channel.removed_at = utcnow()
    session.execute(
        update(Delivery)
        .where(Delivery.channel_id == channel.id, Delivery.state == DeliveryState.PENDING)
        .values(state=DeliveryState.FAILED, last_error="The channel was removed.")
        .execution_options(synchronize_session=False)
    )
    session.flush()


@dataclass
class LoggedDelivery:
    """A delivery with its attempts, oldest first, for the delivery log."""

    delivery: Delivery
    log: list[DeliveryAttempt]

    def __getattr__(self, name):
        return getattr(self.delivery, name)


def list_deliveries(
    session: Session,
    *,
    chain_id: uuid.UUID,
    channel_id: uuid.UUID,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The channel's delivery log, newest first: every delivery and every attempt at it."""
    channel = get_channel(session, chain_id, channel_id)
    stmt = select(Delivery).where(Delivery.channel_id == channel.id)
    if state:
        stmt = stmt.where(Delivery.state == state)
    page = paginate(session, stmt, Delivery.id, cursor=cursor, limit=limit, newest_first=True)
    attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {d.id: [] for d in page.items}
    if attempts:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(attempts))
            .order_by(DeliveryAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return Page([LoggedDelivery(d, attempts[d.id]) for d in page.items], page.next_cursor)


def retry_delivery(
    session: Session, *, chain_id: uuid.UUID, channel_id: uuid.UUID, delivery_id: uuid.UUID
) -> LoggedDelivery:
    """Send a delivery again now: a failed one, one waiting for its next attempt (with
    everything of the channel waiting behind it, in order), or a delivered one (a replay,
    with a new idempotency key so the receiver takes it). One held by quiet hours, the
    coalescing window or the rate limit is a Conflict saying when it goes: those are kept
    for the channel, not skipped for one delivery."""
    channel = get_channel(session, chain_id, channel_id)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.channel_id != channel.id:
        raise no_such("delivery")
    if channel.state != ChannelState.ACTIVE:
        raise Conflict(
            f"The channel is {channel.state}; resume it first.", code="channel_not_active"
        )
    if delivery.state == DeliveryState.SENDING:
        raise Conflict("The delivery is being sent right now.", code="delivery_in_flight")
    now = utcnow()
    if delivery.held_until and delivery.held_until > now and delivery.held_for != HeldFor.BACKOFF:
        raise Conflict(
            f"The delivery is held for {delivery.held_for.replace('_', ' ')}; it goes at "
            f"{delivery.held_until:%Y-%m-%d %H:%M:%S} UTC.",
            code="delivery_held",
            details={"held_for": delivery.held_for, "held_until": delivery.held_until.isoformat()},
        )
    if delivery.state == DeliveryState.DELIVERED:
        delivery.replays += 1
    if delivery.held_for == HeldFor.BACKOFF:
        # What waits behind it waits for the same retry: they go now, in order.
        session.execute(
            update(Delivery)
            .where(
                Delivery.channel_id == channel.id,
                Delivery.state == DeliveryState.PENDING,
                Delivery.held_for == HeldFor.BACKOFF,
            )
            .values(due_at=now, held_for=None)
            .execution_options(synchronize_session=False)
        )
    delivery.state = DeliveryState.PENDING
    delivery.due_at = now
    delivery.held_for = None
    emit(session, delivery_retried(chain_id, channel.id, delivery.id))
    session.flush()
    attempts = session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery.id)
        .order_by(DeliveryAttempt.id)
    ).all()
    return LoggedDelivery(delivery, list(attempts))
