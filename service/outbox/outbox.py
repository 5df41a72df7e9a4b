from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.outbox.models import OutboxEvent


def emit(session: Session, *, chain_id: uuid.UUID, topic: str, payload: dict) -> OutboxEvent:
    """Record an event in the caller's transaction: it is published if and only if the
    change that caused it commits."""
    event = OutboxEvent(chain_id=chain_id, topic=topic, payload=payload)
    session.add(event)
    return event


def pending(session: Session, *, limit: int = 100) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.done_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )
