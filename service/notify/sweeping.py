"""Sweeping: what lost jobs left behind, found again for the jobs to enqueue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.channels.models import Channel, ChannelState, Delivery, DeliveryState
from service.db import utcnow
from service.notify.leasing import lapsed
from service.notify.outbox import messages_overdue, overdue


@dataclass(frozen=True)
class Swept:
    outbox_ids: list[uuid.UUID]
    channel_ids: list[uuid.UUID]
    messages_waiting: bool  # messages wait to be planned: a drain is to be queued


def sweep(session: Session, *, deadline: timedelta, now: datetime | None = None) -> Swept:
    """Find what lost jobs left behind: messages not planned, outbox rows not done, sends
    cut off mid-way (a delivery's own lease lapsed, whoever holds its channel now),
    deliveries overdue. The caller enqueues jobs for them."""
    now = now or utcnow()
    outbox_ids = overdue(session, deadline=deadline, now=now)
    # Back to pending, in their place (message order): the next push of their channel takes
    # them, paused or not, whatever happened to the lease of the push that sent them.
    cut_off = session.scalars(
        update(Delivery)
        .where(Delivery.state == DeliveryState.SENDING, lapsed(now))
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
    channel_ids = sorted(set(overdue_channels) | set(expired) | set(cut_off))
    return Swept(outbox_ids, channel_ids, messages_overdue(session, deadline=deadline, now=now))
