"""Progress: a work item reaches a milestone. Forward moves notify the delivery group and
write the outbox; a late or repeated report is kept in the timeline and changes nothing."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.db import get_in_chain
from service.errors import Invalid, NotFound
from service.groups.models import Message
from service.notify.models import OutboxEvent
from service.orders.models import WorkItem
from service.orders.orders import timeline
from service.progress.models import TimelineEntry
from service.progress.recording import record_progress
from tests.service.customers.chain_world import build_chain_world, delete_chain, race


def an_hour_on(item) -> datetime:
    """A moment a report may name: after the work item was created, not far ahead."""
    return item.created_at.replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def placed(acme):
    """An order of two work items (panels at the factory, frame at the other factory)."""
    order, group = acme.order(acme.customer(), reference="SO-1001")
    return order, group, order.items


def report(world, item, milestone, **fields):
    fields.setdefault("actor", f"factory:{item.factory_id}")
    return record_progress(world.session, work_item=item, milestone=milestone, **fields)


def messages(world, group) -> list[Message]:
    return list(
        world.session.scalars(
            select(Message).where(Message.group_id == group.id).order_by(Message.id)
        )
    )


def outbox(world) -> list[OutboxEvent]:
    return list(
        world.session.scalars(
            select(OutboxEvent).where(OutboxEvent.chain_id == world.id).order_by(OutboxEvent.id)
        )
    )


def test_a_work_item_moves_forward_and_may_skip_milestones(acme, placed):
    _, _, (panels, _) = placed

    moment = an_hour_on(panels)
    progress = report(acme, panels, "shipped", occurred_at=moment, note="Truck 7")

    assert progress.moved
    assert (panels.milestone, panels.milestone_at) == ("shipped", moment)
    entry = timeline(acme.session, panels.order_id)[-1]
    assert (entry.work_item_id, entry.milestone, entry.note, entry.late) == (
        panels.id,
        "shipped",
        "Truck 7",
        False,
    )
    assert entry.actor == f"factory:{acme.factory.id}"


@pytest.mark.parametrize("again", ["designed", "shipped"])
def test_a_behind_or_repeated_report_is_late_and_changes_nothing(acme, placed, again):
    order, group, (panels, frame) = placed
    moment = an_hour_on(panels)
    report(acme, panels, "shipped", occurred_at=moment)
    report(acme, frame, "in_production")
    said, sent = messages(acme, group), outbox(acme)
    order_entries = acme.count(TimelineEntry, TimelineEntry.work_item_id.is_(None))

    progress = report(acme, panels, again, note="from the old scanner")

    assert (progress.moved, progress.order_milestone_changed, progress.notification) == (
        False,
        False,
        None,
    )
    assert (panels.milestone, panels.milestone_at) == ("shipped", moment)
    assert order.milestone == "in_production"
    entry = timeline(acme.session, order.id)[-1]
    assert (entry.work_item_id, entry.milestone, entry.late) == (panels.id, again, True)
    assert messages(acme, group) == said
    assert outbox(acme) == sent
    assert acme.count(TimelineEntry, TimelineEntry.work_item_id.is_(None)) == order_entries


def test_a_forward_move_posts_one_notification_with_its_payload(acme, placed):
    order, group, (panels, _) = placed
    said = messages(acme, group)

    eta = an_hour_on(panels) + timedelta(days=7)
    progress = report(acme, panels, "in_production", eta=eta)

    new = messages(acme, group)[len(said) :]
    assert new == [progress.notification]
    [message] = new
    assert (message.sender, message.kind) == ("system", "notification")
    assert message.payload["order_id"] == str(order.id)
    assert message.payload["work_item_id"] == str(panels.id)
    assert message.payload["milestone"] == "in_production"
    assert message.payload["order_reference"] == "SO-1001"
    assert message.text == f"订单 SO-1001：Wardrobe panels — 生产中，预计 {eta:%Y-%m-%d} 完成。"


def test_a_chain_that_speaks_english_is_told_in_english(acme, placed):
    _, _, (panels, frame) = placed
    acme.chain.language = "en"

    told = report(acme, panels, "designed").notification
    with_date = report(acme, frame, "shipped", eta=an_hour_on(frame) + timedelta(days=2))

    assert told.text == "Order SO-1001: Wardrobe panels — design done."
    assert with_date.notification.text.startswith(
        "Order SO-1001: Wardrobe frame — shipped. Expected "
    )


def test_a_forward_move_writes_its_notification_as_its_only_outbox_entry(acme, placed):
    _, _, (panels, _) = placed
    before = outbox(acme)

    progress = report(acme, panels, "designed")

    assert outbox(acme) == before
    assert progress.notification.planned_at is None


def test_forward_move_its_notification_and_outbox_rows_are_one_transaction(acme, placed):
    order, group, (panels, _) = placed
    acme.session.commit()
    said, sent = len(messages(acme, group)), len(outbox(acme))

    report(acme, panels, "shipped")
    acme.session.rollback()

    assert acme.session.get(type(panels), panels.id).milestone == "received"
    assert len(messages(acme, group)) == said
    assert len(outbox(acme)) == sent
    assert [entry.milestone for entry in timeline(acme.session, order.id)] == ["received"]


def test_the_order_moves_only_when_its_least_advanced_item_does(acme, placed):
    order, _, (panels, frame) = placed

    def order_entries():
        return [e.milestone for e in timeline(acme.session, order.id) if e.work_item_id is None]

    moved = report(acme, panels, "shipped")
    assert (moved.order_milestone_changed, order.milestone) == (False, "received")
    assert order_entries() == ["received"]

    moved = report(acme, frame, "designed")
    assert (moved.order_milestone_changed, order.milestone) == (True, "designed")
    assert order_entries() == ["received", "designed"]

    moved = report(acme, frame, "delivered")
    assert (moved.order_milestone_changed, order.milestone) == (True, "shipped")
    assert order_entries() == ["received", "designed", "shipped"]


@contextmanager
def statements(session):
    """The SQL statements the session's connection runs meanwhile."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_a_step_that_leaves_the_order_where_it_was_does_not_write_the_order(acme, placed):
    """The order's updated_at says when the order itself last changed (placed, or its
    milestone moved); a work item's step says when it was taken in the timeline."""
    order, _, (panels, frame) = placed
    acme.session.flush()
    placed_at = order.updated_at

    with statements(acme.session) as seen:
        report(acme, panels, "shipped")  # the frame is still at received: so is the order
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE ORDERS")]
    acme.session.refresh(order)
    assert (order.milestone, order.updated_at) == ("received", placed_at)

    with statements(acme.session) as seen:
        report(acme, frame, "designed")
    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE ORDERS")]) == 1
    acme.session.refresh(order)
    assert order.milestone == "designed"
    assert order.updated_at > placed_at


def test_the_order_is_completed_only_when_every_item_is(acme, placed):
    order, _, (panels, frame) = placed

    report(acme, panels, "completed")
    assert order.milestone == "received"
    report(acme, frame, "installed")
    assert order.milestone == "installed"
    report(acme, frame, "completed")
    assert order.milestone == "completed"


def test_unknown_milestone_is_invalid_and_recorded_nowhere(acme, placed):
    order, _, (panels, _) = placed

    with pytest.raises(Invalid) as raised:
        report(acme, panels, "teleported")

    assert list(raised.value.details["fields"]) == ["milestone"]
    assert len(timeline(acme.session, order.id)) == 1


def test_work_item_of_another_chain_is_not_found(acme, rival, placed):
    _, _, (panels, _) = placed

    with pytest.raises(NotFound):
        get_in_chain(rival.session, WorkItem, rival.id, panels.id)
    assert get_in_chain(acme.session, WorkItem, acme.id, panels.id) is panels


# Two reports on one work item at once (PostgreSQL: SQLite serialises writers anyway)


@pytest.fixture
def racing_with_factories(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race cannot happen there.")
    with Session(engine, expire_on_commit=False) as session:
        world = build_chain_world(session, "Race Home")
        order, _ = world.order(world.customer(), reference="SO-RACE")
        session.commit()
    yield order.items[0].id
    delete_chain(engine, world.id)


def test_a_report_overtaken_while_it_waited_is_judged_late(engine, racing_with_factories):
    item_id = racing_with_factories

    def reporting(milestone):
        def work(session):
            item = session.get(WorkItem, item_id)  # read before the other commits
            return record_progress(
                session, work_item=item, milestone=milestone, actor="factory:test"
            )

        return work

    with Session(engine) as first, Session(engine) as second:
        reporting("shipped")(first)  # holds the order's lock, not committed yet
        behind = race(engine, first, second, reporting("in_production"))

    assert not behind.moved  # judged against "shipped", not the "received" it first read
    with Session(engine) as check:
        assert check.get(WorkItem, item_id).milestone == "shipped"
