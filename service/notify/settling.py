"""Settling: a push's outcome recorded. Every attempt goes in the delivery log; the
deliveries still claimed under the push's token are settled (delivered, retried after a
backoff, waiting as a receiver said, failed), and the channel, while the push still holds it,
is released, paused after a day of failures (its group told) or disabled (410 Gone)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.chain.models import Chain
from service.channels.models import (
    Channel,
    ChannelState,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    HeldFor,
)
from service.db import among, new_id, utcnow
from service.groups.messages import post_system_message
from service.groups.models import DeliveryGroup
from service.notify.leasing import Claim, next_due
from service.notify.schedule import PAUSE_AFTER, backoff, retry_after
from service.notify.sending import Result
from service.system_texts import say


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
    # Read once: which channels each push still holds decides everything below.
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
    ours = [
        push.channel_id
        for push, _ in pushes
        if channels[push.channel_id].lease_token == push.lease_token
    ]
    # A lease that ran out mid-push may have been taken by another push: the log keeps what
    # happened; a delivery is settled only while it is still claimed under our token, and
    # the channel touched only while we still hold it.
    _delivered(session, [(push, result) for push, result in pushes if result.delivered], now)
    failed = [(push, result) for push, result in pushes if not result.delivered]
    if failed:
        # The rare path, through the unit of work: back-offs, pauses, notices; only the
        # channels still held are changed.
        held = {
            c.id: c
            for c in session.scalars(
                select(Channel)
                .where(
                    among(
                        session,
                        Channel.id,
                        [p.channel_id for p, _ in failed if p.channel_id in ours],
                    )
                )
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
            _failed(session, held.get(push.channel_id), owed, push, result, now, rng)
        session.flush()
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
    channel.state = ChannelState.PAUSED
    channel.state_reason = f"Failing since {channel.failing_since:%Y-%m-%d %H:%M} UTC."
    label = channel.name or channel.type
    post_system_message(
        session,
        group=session.get(DeliveryGroup, channel.group_id),
        kind="notice",
        text=say(
            session.get(Chain, channel.chain_id).language,
            "Pushes to %(channel)s are paused: it has failed for 24 hours. They will resume, "
            "with nothing missed, once the channel is resumed.",
            channel=label,
        ),
        payload={"channel_id": str(channel.id)},
    )
