"""Customers: unique per chain by mobile, served by one dealer and one owner member."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.customers.customers import (
    add_customer,
    list_customers,
    shown_mobile,
    update_customer,
)
from service.customers.models import Customer
from service.db import get_in_chain
from service.errors import Conflict, Invalid, NotFound
from tests.service.customers.chain_world import race


def add(world, **fields):
    fields = {
        "name": "Wang Fang",
        "mobile": "139 1234 5678",
        "dealer_id": world.dealer.id,
        "owner_member_id": world.owner.id,
        **fields,
    }
    return add_customer(world.session, chain_id=world.id, **fields)


def test_customer_is_stored_with_the_mobile_in_e164(acme):
    customer, created = add(acme, name="  Wang Fang ", tags=["vip", " vip", "sofa"])

    assert created
    assert (customer.name, customer.mobile) == ("Wang Fang", "+8613912345678")
    assert (customer.dealer_id, customer.owner_member_id) == (acme.dealer.id, acme.owner.id)
    assert customer.tags == ["vip", "sofa"]


@pytest.mark.parametrize("again", ["+8613912345678", "139 1234 5678", "+86 139-1234-5678"])
def test_same_mobile_in_any_format_is_the_same_customer(acme, again):
    first, _ = add(acme, mobile="139 1234 5678", tags=["sofa"])

    second, created = add(acme, name=" Wang Fang ", mobile=again, tags=["new"])

    assert not created
    assert second.id == first.id
    assert (second.name, second.tags) == ("Wang Fang", ["sofa"])
    assert acme.count(Customer) == 1


def test_a_name_composed_another_way_is_the_same_name(acme):
    first, _ = add(acme, name="Zoë Lefèvre")  # composed (NFC)

    again, created = add(acme, name=unicodedata.normalize("NFD", "Zoë Lefèvre"))

    assert (again.id, created) == (first.id, False)


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"name": "Fang Wang"}, ["name"]),
        ({"name": "wang fang"}, ["name"]),
        ({"owner_member_id": "colleague"}, ["owner_member_id"]),
        (
            {"dealer_id": "other_dealer", "owner_member_id": "their_owner"},
            ["dealer_id", "owner_member_id"],
        ),
        (
            {"dealer_id": "other_dealer", "owner_member_id": "their_owner", "name": "Fang"},
            ["dealer_id", "owner_member_id", "name"],
        ),
    ],
)
def test_a_known_mobile_with_other_details_is_a_conflict_and_changes_nothing(
    acme, changes, differs
):
    # The customer is the brand's: another dealer, owner or name is not silently them.
    first, _ = add(acme)
    changes = {
        field: getattr(acme, value).id if field.endswith("_id") else value
        for field, value in changes.items()
    }

    with pytest.raises(Conflict) as raised:
        add(acme, mobile="+86 139-1234-5678", **changes)

    assert raised.value.code == "customer_exists"
    assert raised.value.details == {"customer_id": str(first.id), "differs": differs}
    acme.session.refresh(first)
    assert (first.name, first.dealer_id, first.owner_member_id) == (
        "Wang Fang",
        acme.dealer.id,
        acme.owner.id,
    )
    assert acme.count(Customer) == 1


def test_a_known_mobile_asked_for_with_a_bad_dealer_is_refused_naming_it(acme):
    add(acme)

    with pytest.raises(Invalid) as raised:
        add(acme, dealer_id=uuid.uuid4())

    assert list(raised.value.details["fields"]) == ["dealer_id"]


def test_same_mobile_in_two_chains_is_two_customers(acme, rival):
    ours, _ = add(acme)
    theirs, created = add(rival)

    assert created
    assert ours.id != theirs.id
    assert (ours.chain_id, theirs.chain_id) == (acme.id, rival.id)
    assert acme.count(Customer) == rival.count(Customer) == 1


@pytest.mark.parametrize("owner", ["their_owner", "coordinator", "gone"])
def test_owner_must_be_a_live_member_of_the_dealer(acme, owner):
    with pytest.raises(Invalid) as raised:
        add(acme, owner_member_id=getattr(acme, owner).id)

    assert list(raised.value.details["fields"]) == ["owner_member_id"]
    assert acme.count(Customer) == 0


def test_owner_from_another_chain_is_refused(acme, rival):
    with pytest.raises(Invalid) as raised:
        add(acme, owner_member_id=rival.owner.id)

    assert list(raised.value.details["fields"]) == ["owner_member_id"]


@pytest.mark.parametrize("dealer", ["factory", "brand"])
def test_a_customer_is_served_by_a_dealer(acme, dealer):
    with pytest.raises(Invalid) as raised:
        add(acme, dealer_id=getattr(acme, dealer).id)

    assert list(raised.value.details["fields"]) == ["dealer_id"]


def test_dealer_of_another_chain_is_refused(acme, rival):
    with pytest.raises(Invalid) as raised:
        add(acme, dealer_id=rival.dealer.id, owner_member_id=rival.owner.id)

    assert list(raised.value.details["fields"]) == ["dealer_id"]
    assert rival.count(Customer) == acme.count(Customer) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "not a number"}, "mobile"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_mobile_or_blank_name_is_refused_naming_the_field(acme, fields, field):
    with pytest.raises(Invalid) as raised:
        add(acme, **fields)

    assert list(raised.value.details["fields"]) == [field]
    assert acme.count(Customer) == 0


def test_mobile_is_whole_for_the_brand_and_the_own_dealer(acme):
    customer, _ = add(acme, mobile="139 1234 5678")

    # None is the brand's own view (its API); the dealer serving the customer sees it whole.
    assert shown_mobile(customer, None) == "+8613912345678"
    assert shown_mobile(customer, acme.dealer.id) == "+8613912345678"


@pytest.mark.parametrize("viewer", ["other_dealer", "factory"])
def test_mobile_is_masked_for_other_organisations(acme, viewer):
    customer, _ = add(acme, mobile="139 1234 5678")

    assert shown_mobile(customer, getattr(acme, viewer).id) == "139****5678"


def test_customer_of_another_chain_is_not_found(session, acme, rival):
    theirs, _ = add(rival)

    with pytest.raises(NotFound):
        get_in_chain(session, Customer, acme.id, theirs.id)
    with pytest.raises(Invalid) as raised:
        get_in_chain(session, Customer, acme.id, theirs.id, field="customer_id")
    assert list(raised.value.details["fields"]) == ["customer_id"]
    with pytest.raises(NotFound):
        get_in_chain(session, Customer, acme.id, uuid.uuid4())


def test_mobile_cannot_be_changed_to_another_customers(acme):
    first = acme.customer(mobile="13912345678")
    second = acme.customer("Zhang San", mobile="13912345679")

    with pytest.raises(Invalid) as raised:
        update_customer(
            acme.session, chain_id=acme.id, customer_id=second.id, mobile="+86 139 1234 5678"
        )

    assert list(raised.value.details["fields"]) == ["mobile"]
    assert (first.mobile, second.mobile) == ("+8613912345678", "+8613912345679")


def test_update_changes_what_is_given(acme):
    customer = acme.customer(mobile="13912345678", tags=["vip"])

    updated = update_customer(
        acme.session,
        chain_id=acme.id,
        customer_id=customer.id,
        name=" Wang Fang Jr ",
        mobile="139 1234 5678",  # its own mobile, written another way
        notes="Prefers calls after 18:00",
    )

    assert (updated.name, updated.mobile, updated.tags) == (
        "Wang Fang Jr",
        "+8613912345678",
        ["vip"],
    )
    assert updated.notes == "Prefers calls after 18:00"


def test_list_customers_filters_by_dealer_and_owner_within_the_chain(acme, rival):
    mine = acme.customer("A")
    colleagues = acme.customer("B", owner=acme.colleague)
    theirs = acme.customer("C", dealer=acme.other_dealer, owner=acme.their_owner)
    rival.customer("D")

    def ids(**filters):
        page = list_customers(acme.session, chain_id=acme.id, **filters)
        return [customer.id for customer in page.items]

    assert ids() == [theirs.id, colleagues.id, mine.id]
    assert ids(dealer_id=acme.dealer.id) == [colleagues.id, mine.id]
    assert ids(dealer_id=acme.other_dealer.id) == [theirs.id]
    assert ids(owner_member_id=acme.owner.id) == [mine.id]
    # Another chain's dealer is not a filter of this chain: the request is wrong.
    with pytest.raises(Invalid) as raised:
        ids(dealer_id=rival.dealer.id)
    assert list(raised.value.details["fields"]) == ["dealer_id"]


def test_list_customers_pages_newest_first_with_every_customer_once(acme):
    added = [acme.customer(f"Customer {n}").id for n in range(7)]

    seen, cursor = [], None
    while True:
        page = list_customers(acme.session, chain_id=acme.id, cursor=cursor, limit=3)
        seen += [customer.id for customer in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == added[::-1]


@pytest.mark.parametrize("second_name", ["Wang Fang", "Fang Wang"])
def test_two_sessions_adding_the_same_mobile_end_with_one_customer(engine, racing, second_name):
    def adding(session: Session, name: str):
        return add_customer(
            session,
            chain_id=racing.id,
            name=name,
            mobile="139 1234 5678",
            dealer_id=racing.dealer.id,
            owner_member_id=racing.owner.id,
        )

    with Session(engine) as first, Session(engine) as second:
        winner, won = adding(first, "Wang Fang")  # inserted, not committed yet
        if second_name == "Wang Fang":
            loser, lost = race(engine, first, second, lambda session: adding(session, second_name))
            assert (won, lost) == (True, False)
            assert loser.id == winner.id
        else:
            # The loser of the race learns of the winner as a late request would.
            with pytest.raises(Conflict) as raised:
                race(engine, first, second, lambda session: adding(session, second_name))
            assert raised.value.details == {"customer_id": str(winner.id), "differs": ["name"]}

    with Session(engine) as check:
        stored = check.scalars(select(Customer).where(Customer.chain_id == racing.id)).all()
    assert [customer.id for customer in stored] == [winner.id]
