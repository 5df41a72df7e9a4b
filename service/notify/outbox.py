"""The outbox: rows written in the transaction of the change that caused them, announced to
the queue after it commits. Whether it commits or not, the row and the change go together."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from service import metrics
from service.db import among, new_id, utcnow
from service.notify.models import OutboxEvent
from service.notify.topics import OutboxRow

log = logging.getLogger(__name__)

# Ids of the outbox rows a session has written and not yet committed.
_UNPUBLISHED = "outbox.unpublished"


def emit(session: Session, row: OutboxRow) -> OutboxEvent:
    """Record an event (a row from service.notify.topics) in the caller's transaction: it is
    published if and only if the change that caused it commits."""
    event_ = OutboxEvent(id=new_id(), **row)
    session.add(event_)
    session.info.setdefault(_UNPUBLISHED, []).append(event_.id)
    return event_


_INSERT = insert(OutboxEvent.__table__)


def emit_many(session: Session, rows: list[OutboxRow]) -> None:
    """`emit` for many rows in one INSERT, bypassing the
    unit of work: for callers writing in bulk."""
    if not rows:
        return
    rows = [{"id": new_id(), **row} for row in rows]
    session.connection().execute(_INSERT, rows)
    session.info.setdefault(_UNPUBLISHED, []).extend(row["id"] for row in rows)


def publish_after_commit(factory: sessionmaker, publish: Callable[[list[uuid.UUID], list], None]):
    """Hand each committed transaction's outbox ids (to put on the queue) and the counts it
    made with metrics.count_on_commit to `publish`, never before the commit: a job must not
    look for a row that is not there yet. A failing publish loses no row: the sweeper finds
    those left undone."""

    def after_commit(session: Session) -> None:
        ids = session.info.pop(_UNPUBLISHED, None) or []
        counts = session.info.pop(metrics.ON_COMMIT, None) or []
        if not ids and not counts:
            return
        try:
            publish(ids, counts)
        except Exception:
            log.warning(
                "Could not tell Redis of a commit (%d outbox rows: the sweeper will enqueue them)",
                len(ids),
                exc_info=True,
            )

    def after_rollback(session: Session) -> None:
        session.info.pop(_UNPUBLISHED, None)
        session.info.pop(metrics.ON_COMMIT, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_rollback", after_rollback)


def pending(session: Session, *, limit: int = 100) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.done_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )


def overdue(
    session: Session, *, deadline: timedelta, now: datetime | None = None, limit: int = 1000
) -> list[uuid.UUID]:
    """Rows not done long after they were last enqueued (or written, if never): their job
    was lost (a crash before enqueueing, a Redis restart). Marks them enqueued now."""
    now = now or utcnow()
    cutoff = now - deadline
    ids = list(
        session.scalars(
            select(OutboxEvent.id)
            .where(
                OutboxEvent.done_at.is_(None),
                or_(
                    OutboxEvent.enqueued_at < cutoff,
                    OutboxEvent.enqueued_at.is_(None) & (OutboxEvent.created_at < cutoff),
                ),
            )
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(OutboxEvent)
            .where(among(session, OutboxEvent.id, ids))
            .values(enqueued_at=now, attempts=OutboxEvent.attempts + 1)
        )
    return ids
