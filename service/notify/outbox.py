"""The outbox: what the pipeline must act on, written in the transaction of the change that
caused it and announced to the queue after it commits. Whether it commits or not, the entry
and the change go together.

Two kinds of entry: a message, which is its own (it is to be put on its group's channels
until the planner marks it planned, see Message.planned_at), and an outbox row for anything
else the pipeline must do (service.notify.topics)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from service import metrics
from service.db import among, new_id, utcnow
from service.groups.models import Message
from service.notify.models import OutboxEvent
from service.notify.topics import OutboxRow

log = logging.getLogger(__name__)

# Set on a session that has written an outbox entry not yet committed.
_UNPUBLISHED = "outbox.unpublished"
# The delivery groups a session has written messages in, not yet committed.
_GROUPS = "outbox.groups"


def announce(session: Session, *, group_id: uuid.UUID | None = None) -> None:
    """Say that the caller's transaction writes an outbox entry (a message, a row): the drain
    is woken if and only if it commits. `group_id`: the entry is a message of this group, whose
    open chat pages are woken too."""
    session.info[_UNPUBLISHED] = True
    if group_id is not None:
        session.info.setdefault(_GROUPS, set()).add(group_id)


def wake_group_pages(session: Session, group_id: uuid.UUID) -> None:
    """Wake the group's open pages when the caller's transaction commits, though it wrote no
    message there: what they may show has changed (a customer's link was revoked), and
    they look again."""
    session.info.setdefault(_GROUPS, set()).add(group_id)


def group_channel(namespace: str, group_id: uuid.UUID) -> str:
    """The Redis pub/sub channel told of each commit that wrote messages in a group: open chat
    pages wait on it, then read the new messages from the database."""
    return f"chain_collab:group_messages:{namespace}:{group_id}"


def emit(session: Session, row: OutboxRow) -> OutboxEvent:
    """Record an event (a row from service.notify.topics) in the caller's transaction: it is
    published if and only if the change that caused it commits."""
    event_ = OutboxEvent(id=new_id(), **row)
    session.add(event_)
    announce(session)
    return event_


def publish_after_commit(
    factory: sessionmaker, publish: Callable[[bool, list, list[uuid.UUID]], None]
):
    """Tell `publish` of each committed transaction: whether it wrote outbox entries (the
    drain is to be woken), the counts it made with metrics.count_on_commit and the groups it
    wrote messages in; never before the commit, since a job must not look for an entry that
    is not there yet, nor a chat page for a message. A failing publish loses nothing: the
    sweeper finds the entries left undone, and a chat page reads again at its next look."""

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: nothing is committed yet
        wake = session.info.pop(_UNPUBLISHED, False)
        counts = session.info.pop(metrics.ON_COMMIT, None) or []
        groups = sorted(session.info.pop(_GROUPS, None) or ())
        if not wake and not counts and not groups:
            return
        try:
            publish(wake, counts, groups)
        except Exception:
            log.warning(
                "Could not tell Redis of a commit (its outbox entries wait for the sweeper)",
                exc_info=True,
            )

    def after_rollback(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint undone: what was written before it still stands
        session.info.pop(_UNPUBLISHED, None)
        session.info.pop(_GROUPS, None)
        session.info.pop(metrics.ON_COMMIT, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_rollback", after_rollback)


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


def messages_overdue(session: Session, *, deadline: timedelta, now: datetime | None = None) -> bool:
    """Whether a message still waits to be planned long after it was written: the drain its
    commit woke was lost (a crash before it was queued, a Redis restart)."""
    cutoff = (now or utcnow()) - deadline
    return (
        session.scalar(
            select(Message.id)
            .where(Message.planned_at.is_(None), Message.created_at < cutoff)
            .limit(1)
        )
        is not None
    )


def waiting(session: Session) -> int:
    """Outbox entries not yet acted on: messages not planned and rows not done."""
    return session.scalar(
        select(func.count()).select_from(Message).where(Message.planned_at.is_(None))
    ) + session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.done_at.is_(None))
    )
