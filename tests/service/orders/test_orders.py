"""Orders: placed for a customer by their dealer, split into work items per factory; the
customer's first order opens their delivery group in the same transaction."""

from __future__ import annotations

import uuid

import pytest

from service.chain.organisations import remove_organisation
from service.db import get_in_chain
from service.errors import Conflict, Invalid, NotFound
from service.groups.models import DeliveryGroup, GroupMember, Message
from service.notify.models import OutboxEvent
from service.orders.models import Order, WorkItem
from service.orders.orders import ItemRequest, list_orders, place_order, timeline
from service.progress.models import TimelineEntry


def place(world, customer, *, reference="SO-1001", items=None, dealer=None):
    return place_order(
        world.session,
        chain_id=world.id,
        customer_id=customer.id,
        dealer_id=(dealer or world.dealer).id,
        reference=reference,
        items=world.items() if items is None else items,
    )


def item(factory, description="Wardrobe panels", quantity=1, factory_reference=None):
    return ItemRequest(factory.id, description, quantity, factory_reference)


def test_order_has_a_work_item_per_item_each_received(acme):
    customer = acme.customer()

    order, _, created = place(
        acme,
        customer,
        reference=" SO-1001 ",
        items=[item(acme.factory, " Panels ", 4, "P-77"), item(acme.other_factory, "Frame")],
    )

    assert created
    assert (order.reference, order.milestone) == ("SO-1001", "received")
    assert (order.customer_id, order.dealer_id) == (customer.id, acme.dealer.id)
    assert [
        (i.position, i.factory_id, i.description, i.quantity, i.factory_reference, i.milestone)
        for i in order.items
    ] == [
        (1, acme.factory.id, "Panels", 4, "P-77", "received"),
        (2, acme.other_factory.id, "Frame", 1, None, "received"),
    ]


def test_order_starts_its_timeline_at_received(acme):
    order, _, _ = place(acme, acme.customer())

    [entry] = timeline(acme.session, order.id)
    assert (entry.milestone, entry.work_item_id, entry.actor, entry.late) == (
        "received",
        None,
        "api",
        False,
    )


def test_first_order_opens_the_customers_delivery_group(acme):
    customer = acme.customer()

    _, group, _ = place(acme, customer)

    assert (group.customer_id, group.dealer_id) == (customer.id, acme.dealer.id)
    assert group.owner_member_id == acme.owner.id
    assert acme.count(DeliveryGroup) == 1


def test_order_items_timeline_and_group_are_one_transaction(acme):
    customer = acme.customer()
    acme.session.commit()

    _, group, _ = place(acme, customer)
    assert acme.count(GroupMember, GroupMember.group_id == group.id) > 0
    acme.session.rollback()

    for model in (Order, WorkItem, TimelineEntry, DeliveryGroup, Message, OutboxEvent):
        assert acme.count(model) == 0, model.__name__
    assert acme.count(GroupMember, GroupMember.group_id == group.id) == 0


def test_same_reference_and_content_returns_the_first_order(acme):
    customer = acme.customer()
    first, group, _ = place(acme, customer, items=[item(acme.factory, quantity=2)])
    counts = [acme.count(model) for model in (Order, WorkItem, TimelineEntry, Message)]

    again, same_group, created = place(
        acme, customer, reference="SO-1001 ", items=[item(acme.factory, " Wardrobe panels", 2)]
    )

    assert not created
    assert (again.id, same_group.id) == (first.id, group.id)
    assert [acme.count(model) for model in (Order, WorkItem, TimelineEntry, Message)] == counts


@pytest.mark.parametrize(
    "change",
    [
        {"items": "quantity"},
        {"items": "factory"},
        {"items": "more"},
        {"customer": "another"},
    ],
)
def test_same_reference_with_other_content_is_a_conflict(acme, change):
    customer = acme.customer()
    first, _, _ = place(acme, customer, items=[item(acme.factory, quantity=2)])
    items = {
        "quantity": [item(acme.factory, quantity=3)],
        "factory": [item(acme.other_factory, quantity=2)],
        "more": [item(acme.factory, quantity=2), item(acme.other_factory)],
    }.get(change.get("items"), [item(acme.factory, quantity=2)])
    someone = acme.customer("Zhang San") if change.get("customer") else customer

    with pytest.raises(Conflict) as raised:
        place(acme, someone, items=items)

    assert raised.value.details["order_id"] == str(first.id)
    assert list(raised.value.details["fields"]) == ["reference"]
    assert acme.count(Order) == 1


def test_references_are_per_chain(acme, rival):
    ours, _, _ = place(acme, acme.customer())
    theirs, _, created = place(rival, rival.customer())

    assert created
    assert ours.id != theirs.id


def test_customer_of_another_dealer_is_invalid(acme):
    customer = acme.customer()

    with pytest.raises(Invalid) as raised:
        place(acme, customer, dealer=acme.other_dealer)

    assert list(raised.value.details["fields"]) == ["dealer_id"]
    assert acme.count(Order) == acme.count(DeliveryGroup) == 0


def test_customer_of_another_chain_is_invalid(acme, rival):
    with pytest.raises(Invalid) as raised:
        place(acme, rival.customer())

    assert list(raised.value.details["fields"]) == ["customer_id"]
    assert acme.count(Order) == rival.count(Order) == 0


@pytest.mark.parametrize("factory", ["unknown", "foreign", "removed", "dealer", "brand"])
def test_item_with_a_factory_not_in_the_chain_is_invalid_naming_it(acme, rival, factory):
    customer = acme.customer()
    if factory == "removed":
        remove_organisation(acme.session, chain_id=acme.id, organisation_id=acme.other_factory.id)
    wrong = {
        "unknown": uuid.uuid4(),
        "foreign": rival.factory.id,
        "removed": acme.other_factory.id,
        "dealer": acme.dealer.id,
        "brand": acme.brand.id,
    }[factory]
    items = [item(acme.factory), ItemRequest(wrong, "Frame", 1), item(acme.factory)]

    with pytest.raises(Invalid) as raised:
        place(acme, customer, items=items)

    assert list(raised.value.details["fields"]) == ["items[1].factory_id"]
    assert acme.count(Order) == acme.count(WorkItem) == acme.count(DeliveryGroup) == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (ItemRequest(None, "  ", 1), "items[0].description"),
        (ItemRequest(None, "Panels", 0), "items[0].quantity"),
    ],
)
def test_blank_description_or_no_quantity_is_invalid(acme, bad, field):
    bad = ItemRequest(acme.factory.id, bad.description, bad.quantity)

    with pytest.raises(Invalid) as raised:
        place(acme, acme.customer(), items=[bad])

    assert list(raised.value.details["fields"]) == [field]


def test_order_needs_items_and_a_reference(acme):
    customer = acme.customer()

    with pytest.raises(Invalid) as raised:
        place(acme, customer, items=[])
    assert list(raised.value.details["fields"]) == ["items"]
    with pytest.raises(Invalid) as raised:
        place(acme, customer, reference="  ")
    assert list(raised.value.details["fields"]) == ["reference"]


def test_factory_reference_is_unique_per_factory(acme):
    first, second = acme.customer("A"), acme.customer("B")
    place(acme, first, reference="SO-1", items=[item(acme.factory, factory_reference="P-1")])

    with pytest.raises(Invalid) as raised:
        place(
            acme,
            second,
            reference="SO-2",
            items=[item(acme.other_factory), item(acme.factory, factory_reference="P-1")],
        )
    assert list(raised.value.details["fields"]) == ["items[1].factory_reference"]

    # Another factory may use the same reference for its own work item.
    _, _, created = place(
        acme, second, reference="SO-3", items=[item(acme.other_factory, factory_reference="P-1")]
    )
    assert created


def test_factory_reference_twice_in_one_order_is_invalid(acme):
    items = [
        item(acme.factory, factory_reference="P-1"),
        item(acme.factory, factory_reference="P-1"),
    ]

    with pytest.raises(Invalid) as raised:
        place(acme, acme.customer(), items=items)

    assert list(raised.value.details["fields"]) == ["items[1].factory_reference"]


def test_order_of_another_chain_is_not_found(acme, rival):
    theirs, _, _ = place(rival, rival.customer())

    with pytest.raises(NotFound):
        get_in_chain(acme.session, Order, acme.id, theirs.id)
    assert get_in_chain(rival.session, Order, rival.id, theirs.id).id == theirs.id


# --- Lists ---


@pytest.fixture
def orders(acme):
    """Orders of both dealers, for customers of both, at both factories: name → order."""
    wang, zhang = acme.customer("Wang Fang"), acme.customer("Zhang San")
    ma = acme.customer("Ma Qing", dealer=acme.other_dealer, owner=acme.their_owner)
    panels, frame = item(acme.factory), item(acme.other_factory, "Frame")
    ours, theirs = acme.dealer, acme.other_dealer
    placed = {}
    for name, customer, dealer, items in [
        ("wang-1", wang, ours, [panels]),
        ("zhang-1", zhang, ours, [frame]),
        ("ma-1", ma, theirs, [panels, frame]),
        ("wang-2", wang, ours, [frame]),
        ("ma-2", ma, theirs, [frame]),
    ]:
        placed[name], _, _ = place(acme, customer, reference=name, items=items, dealer=dealer)
    return placed


def listed(world, **filters) -> list[str]:
    return [
        order.reference for order in list_orders(world.session, chain_id=world.id, **filters).items
    ]


def test_orders_are_listed_newest_first_and_filtered(acme, orders):
    wang = orders["wang-1"].customer_id

    assert listed(acme) == ["ma-2", "wang-2", "ma-1", "zhang-1", "wang-1"]
    assert listed(acme, dealer_id=acme.dealer.id) == ["wang-2", "zhang-1", "wang-1"]
    assert listed(acme, customer_id=wang) == ["wang-2", "wang-1"]
    assert listed(acme, factory_id=acme.factory.id) == ["ma-1", "wang-1"]
    assert listed(acme, factory_id=acme.other_factory.id, dealer_id=acme.other_dealer.id) == [
        "ma-2",
        "ma-1",
    ]
    assert listed(acme, milestone="received") == listed(acme)
    assert listed(acme, milestone="shipped") == []


def test_dealers_of_one_chain_never_see_each_others_orders(acme, orders):
    ours = list_orders(acme.session, chain_id=acme.id, dealer_id=acme.dealer.id).items
    theirs = list_orders(acme.session, chain_id=acme.id, dealer_id=acme.other_dealer.id).items

    assert {order.dealer_id for order in ours} == {acme.dealer.id}
    assert {order.dealer_id for order in theirs} == {acme.other_dealer.id}
    # Naming the other dealer's customer under one's own dealer finds nothing.
    their_customer = orders["ma-1"].customer_id
    assert listed(acme, dealer_id=acme.dealer.id, customer_id=their_customer) == []


def test_chains_never_see_each_others_orders(acme, rival, orders):
    place(rival, rival.customer(), reference="wang-1")

    assert listed(rival) == ["wang-1"]
    assert "ma-1" not in listed(rival)
    for name, value in [
        ("dealer_id", acme.dealer.id),
        ("customer_id", orders["wang-1"].customer_id),
        ("factory_id", acme.factory.id),
    ]:
        with pytest.raises(Invalid) as raised:
            listed(rival, **{name: value})
        assert list(raised.value.details["fields"]) == [name]


def test_unknown_milestone_filter_is_invalid(acme):
    with pytest.raises(Invalid) as raised:
        listed(acme, milestone="teleported")
    assert list(raised.value.details["fields"]) == ["milestone"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_paging_returns_every_order_once_newest_first(acme, limit):
    customers = [acme.customer(f"Customer {n}") for n in range(3)]
    placed = [place(acme, customers[n % 3], reference=f"SO-{n}")[0].id for n in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        page = list_orders(acme.session, chain_id=acme.id, cursor=cursor, limit=limit)
        seen += [order.id for order in page.items]
        pages += 1
        assert len(page.items) <= limit
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == placed[::-1]
    assert pages == -(-7 // limit)  # no empty page at the end


def test_paging_with_a_filter_keeps_to_the_filter(acme, orders):
    seen, cursor = [], None
    while True:
        page = list_orders(
            acme.session, chain_id=acme.id, dealer_id=acme.other_dealer.id, cursor=cursor, limit=1
        )
        seen += [order.reference for order in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == ["ma-2", "ma-1"]
