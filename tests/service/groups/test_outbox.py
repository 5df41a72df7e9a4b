"""The outbox: every message posted and every milestone change writes a row in the same
transaction, and no row is left when that transaction rolls back."""

from __future__ import annotations

from sqlalchemy import select

from service.groups.messages import post_message
from service.groups.models import Message
from service.groups.templates import create_template
from service.notify.models import OutboxEvent
from service.notify.outbox import pending
from service.progress.recording import record_progress


def events(world) -> list[OutboxEvent]:
    return list(
        world.session.scalars(
            select(OutboxEvent).where(OutboxEvent.chain_id == world.id).order_by(OutboxEvent.id)
        )
    )


def test_every_message_posted_has_its_row(acme):
    create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        auto_replies=[{"keyword": "install", "reply": "Tomorrow."}],
    )
    order, group = acme.order(acme.customer())
    post_message(acme.session, group=group, text="Hello", sender="customer")
    post_message(acme.session, group=group, text="install?", sender="customer")
    record_progress(acme.session, work_item=order.items[0], milestone="designed", actor="api")

    messages = acme.session.scalars(
        select(Message.id).where(Message.group_id == group.id).order_by(Message.id)
    ).all()
    posted = [e.payload for e in events(acme) if e.topic == "message.posted"]
    # The welcome, the two texts, the auto-reply and the notification: one row each, in order.
    assert posted == [{"message_id": str(mid), "group_id": str(group.id)} for mid in messages]
    assert len(messages) == 5


def test_a_milestone_change_writes_only_its_notifications_row(acme):
    """Outside, a change of milestone is heard of through its notification: a row of its
    own would be read by no one."""
    order, group = acme.order(acme.customer())
    panels, frame = order.items
    before = len(events(acme))

    record_progress(acme.session, work_item=panels, milestone="shipped", actor="api")
    record_progress(acme.session, work_item=frame, milestone="designed", actor="api")
    record_progress(acme.session, work_item=panels, milestone="designed", actor="api")  # late

    notifications = acme.session.scalars(
        select(Message.id)
        .where(Message.group_id == group.id, Message.kind == "notification")
        .order_by(Message.id)
    ).all()
    assert len(notifications) == 2
    assert [(e.topic, e.payload["message_id"]) for e in events(acme)[before:]] == [
        ("message.posted", str(message_id)) for message_id in notifications
    ]


def test_rows_exist_exactly_when_the_transaction_commits(acme):
    order, group = acme.order(acme.customer())
    acme.session.commit()
    committed = events(acme)

    post_message(acme.session, group=group, text="Hello", sender="customer")
    record_progress(acme.session, work_item=order.items[0], milestone="shipped", actor="api")
    assert len(events(acme)) == len(committed) + 2  # each message's message.posted
    acme.session.rollback()

    assert events(acme) == committed


def test_rows_are_pending_until_drained_oldest_first(acme):
    _, group = acme.order(acme.customer())
    post_message(acme.session, group=group, text="Hello", sender="customer")

    ours = [e for e in pending(acme.session, limit=10_000) if e.chain_id == acme.id]

    assert ours == events(acme)
    assert all(e.done_at is None and e.attempts == 0 for e in ours)
