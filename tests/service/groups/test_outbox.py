"""The outbox: every message is its own entry, to be planned, from the transaction that
wrote it; nothing else says it again, and nothing is left when that transaction rolls back."""

from __future__ import annotations

from sqlalchemy import select

from service.groups.messages import post_message
from service.groups.models import Message
from service.groups.templates import create_template
from service.notify.models import OutboxEvent
from service.notify.outbox import waiting
from service.notify.planning import plan
from service.progress.recording import record_progress


def unplanned(world) -> list:
    return world.session.scalars(
        select(Message.id)
        .where(Message.chain_id == world.id, Message.planned_at.is_(None))
        .order_by(Message.id)
    ).all()


def rows(world) -> list[OutboxEvent]:
    return world.session.scalars(select(OutboxEvent).where(OutboxEvent.chain_id == world.id)).all()


def test_every_message_posted_waits_to_be_planned_and_writes_no_row(acme):
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
    # The welcome, the two texts, the auto-reply and the notification, in order.
    assert len(messages) == 5
    assert unplanned(acme) == messages
    assert rows(acme) == []


def test_a_milestone_change_writes_only_its_notification(acme):
    """Outside, a change of milestone is heard of through its notification: an outbox entry
    of its own would be read by no one."""
    order, group = acme.order(acme.customer())
    panels, frame = order.items
    before = unplanned(acme)

    record_progress(acme.session, work_item=panels, milestone="shipped", actor="api")
    record_progress(acme.session, work_item=frame, milestone="designed", actor="api")
    record_progress(acme.session, work_item=panels, milestone="designed", actor="api")  # late

    notifications = acme.session.scalars(
        select(Message.id)
        .where(Message.group_id == group.id, Message.kind == "notification")
        .order_by(Message.id)
    ).all()
    assert len(notifications) == 2
    assert unplanned(acme) == before + notifications
    assert rows(acme) == []


def test_entries_exist_exactly_when_the_transaction_commits(acme):
    order, group = acme.order(acme.customer())
    acme.session.commit()
    committed = unplanned(acme)

    post_message(acme.session, group=group, text="Hello", sender="customer")
    record_progress(acme.session, work_item=order.items[0], milestone="shipped", actor="api")
    assert len(unplanned(acme)) == len(committed) + 2
    acme.session.rollback()

    assert unplanned(acme) == committed


def test_planning_marks_messages_planned_and_they_wait_no_more(acme):
    _, group = acme.order(acme.customer())
    post_message(acme.session, group=group, text="Hello", sender="customer")
    assert len(unplanned(acme)) == 2  # the welcome and the text
    assert waiting(acme.session) >= 2

    _, taken = plan(acme.session, limit=10_000)

    assert taken >= 2
    assert unplanned(acme) == []
    assert waiting(acme.session) == 0
    planned = acme.session.scalars(select(Message).where(Message.group_id == group.id)).all()
    assert all(message.planned_at is not None for message in planned)
