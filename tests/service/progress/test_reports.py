"""A factory's webhook delivery: its webhook-id claimed by the first timeline entry it writes,
answered once. Two deliveries with one id at once (PostgreSQL: SQLite serialises writers)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.groups.models import Message
from service.progress.models import StageSpan, TimelineEntry
from service.progress.reports import Event, earlier_answer, record_report
from tests.service.customers.chain_world import build_chain_world, delete_chain, race


def deliver(session, factory_id, webhook_id, *events):
    return record_report(
        session, factory_id=factory_id, webhook_id=webhook_id, events=[Event(*e) for e in events]
    )


def test_a_delivery_is_claimed_by_its_first_entry_with_its_answer(acme):
    order, _ = acme.order(acme.customer())
    panels, _ = order.items
    steps = [(str(panels.id), "shipped"), (str(panels.id), "designed")]
    answer, new = deliver(acme.session, acme.factory.id, "msg_1", *steps)
    assert new
    assert answer == {
        "accepted": 2,
        "results": [
            {"work_item": str(panels.id), "milestone": "shipped", "moved": True},
            {"work_item": str(panels.id), "milestone": "designed", "moved": False},
        ],
    }
    of_panels = select(TimelineEntry).where(TimelineEntry.work_item_id == panels.id)
    entries = acme.session.scalars(of_panels.order_by(TimelineEntry.id)).all()
    assert [(e.milestone, e.late, e.webhook_id) for e in entries] == [
        ("shipped", False, "msg_1"), ("designed", True, None)
    ]  # fmt: skip
    assert entries[0].answer == answer
    assert earlier_answer(acme.session, acme.factory.id, "msg_1") == answer
    # The same id from another factory is another delivery.
    assert earlier_answer(acme.session, acme.other_factory.id, "msg_1") is None


def test_a_delivery_writes_the_stages_its_steps_ended_and_a_repeat_none(acme):
    order, _ = acme.order(acme.customer())
    panels, _ = order.items
    steps = [
        (str(panels.id), "designed"),
        (str(panels.id), "shipped"),
        (str(panels.id), "designed"),
    ]
    deliver(acme.session, acme.factory.id, "msg_1", *steps)
    deliver(acme.session, acme.factory.id, "msg_1", *steps)
    spans = acme.session.scalars(select(StageSpan).order_by(StageSpan.id)).all()
    assert [(s.from_milestone, s.to_milestone, s.factory_id, s.dealer_id) for s in spans] == [
        ("received", "designed", acme.factory.id, order.dealer_id),
        ("designed", "shipped", acme.factory.id, order.dealer_id),
    ]  # the late report ends no stage
    assert all(s.seconds >= 0 and not s.rolled and s.promise_kept is None for s in spans)


def test_a_repeated_webhook_id_writes_nothing_even_for_other_events(acme):
    order, _ = acme.order(acme.customer())
    panels, _ = order.items
    answer, _ = deliver(acme.session, acme.factory.id, "msg_1", (str(panels.id), "designed"))
    entries = acme.count(TimelineEntry)

    # A batch this time, whose steps would write several entries.
    steps = [(str(panels.id), "shipped"), (str(panels.id), "completed")]
    again, new = deliver(acme.session, acme.factory.id, "msg_1", *steps)

    assert (again, new) == (answer, False)
    assert acme.count(TimelineEntry) == entries
    acme.session.refresh(panels)
    assert panels.milestone == "designed"


@pytest.fixture
def racing_orders(engine):
    """Two committed orders, each with a work item at the same factory."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race cannot happen there.")
    with Session(engine, expire_on_commit=False) as session:
        world = build_chain_world(session, "Race Webhooks")
        orders = [world.order(world.customer())[0] for _ in range(2)]
        session.commit()
    yield world.factory.id, [order.items[0].id for order in orders]
    delete_chain(engine, world.id)


def stored(engine, item_ids) -> tuple[int, int, int]:
    """(claims, the items' entries, notifications) about these work items."""
    with Session(engine) as session:
        entries = select(func.count()).where(TimelineEntry.work_item_id.in_(item_ids))
        notes = select(func.count()).where(
            Message.kind == "notification",
            Message.payload["work_item_id"].as_string().in_([str(i) for i in item_ids]),
        )
        return (
            session.scalar(entries.where(TimelineEntry.webhook_id == "msg_race")),
            session.scalar(entries),
            session.scalar(notes),
        )


@pytest.mark.parametrize("second_names", ["the same item", "an item of another order"])
def test_of_two_deliveries_racing_with_one_id_the_second_gets_the_first_answer(
    engine, racing_orders, second_names
):
    """The second waits for the first: on the orders' locks when they name the same order,
    on the claim's unique index otherwise; then it finds the id taken and writes nothing."""
    factory_id, (item, other) = racing_orders
    second_item = item if second_names == "the same item" else other
    before = stored(engine, [item, other])

    with Session(engine) as first, Session(engine) as second:
        answer, new = deliver(first, factory_id, "msg_race", (str(item), "shipped"))
        again, again_new = race(
            engine,
            first,
            second,
            lambda session: deliver(session, factory_id, "msg_race", (str(second_item), "shipped")),
        )

    assert (new, again_new) == (True, False)
    assert again == answer
    claims, entries, notes = stored(engine, [item, other])
    assert (claims, entries, notes) == (1, before[1] + 1, before[2] + 1)
