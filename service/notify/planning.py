"""Planning: outbox entries → what their consumers owe. A message not yet planned becomes one
delivery per channel of its group, and is marked planned; a `channel.resumed` or
`delivery.retried` row names a channel to push now, and is marked done. Both in the
transaction that writes the deliveries, which are unique per (channel, message): planned
twice, owed once.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.channels.models import Channel, ChannelState, Delivery
from service.db import among, new_id, utcnow
from service.groups.models import Message
from service.notify import topics
from service.notify.models import OutboxEvent

log = logging.getLogger(__name__)


def _locking(session: Session, query):
    # PostgreSQL: workers draining together each take different entries (FOR NO KEY UPDATE:
    # a delivery's foreign key to its message does not wait for it). SQLite's writers are
    # serialised by BEGIN IMMEDIATE already.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, key_share=True)
    return query


def plan(
    session: Session,
    outbox_ids: list[uuid.UUID] | None = None,
    *,
    limit: int = 500,
    now: datetime | None = None,
) -> tuple[set, int]:
    """Hand outbox entries to their consumers: these rows, or else the oldest messages not
    yet planned and the oldest pending rows, up to `limit` of each. Returns the ids of the
    channels to push now, and how many entries were taken."""
    now = now or utcnow()
    touched: set[uuid.UUID] = set()
    taken = 0
    if outbox_ids is None:
        messages = session.execute(
            _locking(
                session,
                select(Message.id, Message.chain_id, Message.group_id, Message.payload)
                .where(Message.planned_at.is_(None))
                .order_by(Message.id)
                .limit(limit),
            )
        ).all()
        if messages:
            touched |= _deliver(session, messages, now)
            session.execute(
                update(Message.__table__)
                .where(among(session, Message.id, [m.id for m in messages]))
                .values(planned_at=now)
            )
        taken = len(messages)
    query = select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload).where(
        OutboxEvent.done_at.is_(None)
    )
    if outbox_ids is not None:
        query = query.where(among(session, OutboxEvent.id, outbox_ids))
    rows = session.execute(_locking(session, query.order_by(OutboxEvent.id).limit(limit))).all()
    if not rows:
        return touched, taken
    by_topic: dict[str, list[dict]] = {}
    for row in rows:
        by_topic.setdefault(row.topic, []).append(row.payload)
    unconsumed = Counter()
    for topic, payloads in by_topic.items():
        consumer = CONSUMERS.get(topic)
        if consumer is None:
            unconsumed[topic] = len(payloads)
        else:
            touched |= consumer(session, payloads, now)
    if unconsumed:
        # Rows of a topic no longer written (or never read): done, so that they do not
        # come back with every sweep.
        log.warning("Outbox rows no one consumes, marked done: %s", dict(unconsumed))
    session.execute(
        update(OutboxEvent.__table__)
        .where(among(session, OutboxEvent.id, [row.id for row in rows]))
        .values(done_at=now)
    )
    return touched, taken + len(rows)


def _deliver(session: Session, messages: list, now: datetime) -> set[uuid.UUID]:
    """One delivery per live channel of each message's group (not yet owed); the active
    channels among them are to be pushed."""
    message_ids = [message.id for message in messages]
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
    touched: set[uuid.UUID] = set()
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
    return touched


def _push_channel(session: Session, payloads: list[dict], now: datetime) -> set[uuid.UUID]:
    """channel.resumed, delivery.retried: the channel is pushed now (its claim skips it if it
    is not active, or owes nothing)."""
    return {uuid.UUID(payload["channel_id"]) for payload in payloads}


# Every topic the outbox carries, and what consumes it. A topic without a consumer is not
# written (service.notify.topics has a builder only for these).
CONSUMERS: dict[str, Callable[[Session, list[dict], datetime], set[uuid.UUID]]] = {
    topics.CHANNEL_RESUMED: _push_channel,
    topics.DELIVERY_RETRIED: _push_channel,
}


def _about(message, channel_id: uuid.UUID) -> bool:
    # A notice that a channel is paused is for the group, not for that channel's backlog.
    return bool(message.payload) and message.payload.get("channel_id") == str(channel_id)
