"""Leasing: a push's claim on a channel and on the deliveries it sends.

A push takes the channel's lease and marks its deliveries `sending`, each under a lease of
its own with the push's token; the job commits that before it sends. Only the lease holder
pushes to a channel, so two live workers never send the same delivery. The leases run one
request timeout and a margin past their last renewal (renew, while the push is sent and
recorded), so a killed worker's lapse soon; a `sending` delivery whose lease lapsed is owed
again and taken, in message order, by the next push to hold its channel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.chain.models import Chain, Member
from service.channels.models import (
    Channel,
    ChannelState,
    Delivery,
    DeliveryState,
    delivery_key,
)
from service.customers.models import Customer
from service.db import among, utcnow
from service.groups.models import DeliveryGroup, Message
from service.notify import formats
from service.notify.schedule import gates
from service.notify.sending import PushSettings
from service.system_texts import N_, say

# Messages coalesced into one push at most; the rest go in the next.
MAX_PER_PUSH = 20


# A push's leases outlive one request timing out by this much.
LEASE_MARGIN = timedelta(seconds=5)


# A channel another worker is pushing to is looked at again after this.
BUSY_RETRY = timedelta(seconds=1)


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
            select(
                Chain.id,
                Chain.timezone,
                Chain.language,
                Chain.quiet_hours_start,
                Chain.quiet_hours_end,
            ).where(among(session, Chain.id, {c.chain_id for c in channels.values()}))
        )
    }
    holds = waiting | gates(
        session, [channels[cid] for cid in due], chains, now, settings.coalesce_window
    )
    for cid, (gate, reason) in holds.items():
        # Held (its oldest waiting, or a gate closed): everything it owes is due when that
        # one may go, and says why, so that nothing newer goes first and the sweeper does
        # not take them for lost in the meantime.
        session.execute(
            update(Delivery)
            .where(
                Delivery.channel_id == cid,
                ((Delivery.state == DeliveryState.PENDING) & (Delivery.due_at < gate))
                | ((Delivery.state == DeliveryState.SENDING) & lapsed(now)),
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

    languages = {chain_id: chain.language for chain_id, chain in chains.items()}
    messages = _outgoing(session, [d for owed in due.values() for d in owed], languages)
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


def lapsed(now: datetime):
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


# Who wrote a message without a name of their own, as its chain's language says it.
SENDERS = {"system": N_("System"), "customer": N_("Customer"), "member": N_("Member")}


def _outgoing(
    session: Session, deliveries: list, languages: dict[uuid.UUID, str]
) -> dict[uuid.UUID, formats.OutgoingMessage]:
    """Each delivery's message as it is sent, by delivery id."""
    rows = session.execute(
        select(
            Message.id,
            Message.chain_id,
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
            sender_name=message.sender_name
            or say(languages[message.chain_id], SENDERS.get(message.sender, SENDERS["member"])),
            text=message.text,
            payload=message.payload,
            created_at=message.created_at,
        )
    return outgoing
