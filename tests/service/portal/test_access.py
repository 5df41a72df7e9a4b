"""Who may see what in the portal: a dealer's administrator the whole dealer, its other
members what they own or sit in, the brand everything, a factory no customer; outside that,
an id answers as one that never existed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from service.chain.members import add_member
from service.customers.models import Customer
from service.errors import NotFound
from service.groups.models import DeliveryGroup, GroupMember
from service.orders.models import Order
from service.portal.access import (
    Reader,
    customers_visible,
    get_visible,
    groups_visible,
    may_write,
    orders_visible,
)
from tests.service.customers import chain_world

acme, rival = chain_world.acme, chain_world.rival


@pytest.fixture
def served(acme):
    """Two customers of the dealer (one the owner's, one the colleague's) and one of the other
    dealer, each with an order and its group; the designer sits in the colleague's group only."""
    mine = acme.customer("Wang Fang")
    theirs = acme.customer("Liu Yang", owner=acme.colleague)
    elsewhere = acme.customer("Zhang San", dealer=acme.other_dealer, owner=acme.their_owner)
    placed = {c.name: acme.order(c) for c in (mine, theirs, elsewhere)}
    acme.session.execute(
        GroupMember.__table__.delete().where(GroupMember.member_id == acme.designer.id)
    )
    acme.session.add(
        GroupMember(group_id=placed["Liu Yang"][1].id, member_id=acme.designer.id, role="member")
    )
    acme.session.flush()
    return placed


def names(session, model, condition) -> set[str]:
    if model is Customer:
        return set(session.scalars(select(Customer.name).where(condition)))
    rows = session.execute(
        select(Customer.name).join(model, model.customer_id == Customer.id).where(condition)
    )
    return set(rows.scalars())


def brand_member(acme):
    return add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Han Mei", role="admin"
    )


def test_each_reader_sees_what_the_rules_say(acme, served):
    everyone = {"Wang Fang", "Liu Yang", "Zhang San"}
    expected = {
        acme.admin: {"Wang Fang", "Liu Yang"},  # the whole dealer
        acme.owner: {"Wang Fang"},  # theirs
        acme.designer: {"Liu Yang"},  # seated
        acme.their_owner: {"Zhang San"},
        brand_member(acme): everyone,
        acme.coordinator: set(),  # a factory
    }
    for member, seen in expected.items():
        reader = Reader.of(member)
        for model, condition in (
            (Customer, customers_visible(reader)),
            (DeliveryGroup, groups_visible(reader)),
            (Order, orders_visible(reader)),
        ):
            assert names(acme.session, model, condition) == seen, (member.name, model.__name__)


def test_mine_narrows_an_administrator_to_what_they_own_or_sit_in(acme, served):
    reader = Reader.of(acme.admin)
    assert names(acme.session, Customer, customers_visible(reader, mine=True)) == set()
    group = served["Liu Yang"][1]
    acme.session.add(GroupMember(group_id=group.id, member_id=acme.admin.id, role="member"))
    acme.session.flush()
    for model, condition in (
        (Customer, customers_visible(reader, mine=True)),
        (DeliveryGroup, groups_visible(reader, mine=True)),
        (Order, orders_visible(reader, mine=True)),
    ):
        assert names(acme.session, model, condition) == {"Liu Yang"}, model.__name__


def test_another_chain_sees_nothing_of_this_one(acme, rival, served):
    reader = Reader.of(rival.admin)
    for model, condition in (
        (Customer, customers_visible(reader)),
        (DeliveryGroup, groups_visible(reader)),
        (Order, orders_visible(reader)),
    ):
        assert names(acme.session, model, condition) == set()


def test_what_a_reader_may_not_open_is_answered_as_never_existing(acme, served):
    order, group = served["Zhang San"]
    reader = Reader.of(acme.owner)
    answers = []
    for model, id_ in ((Order, order.id), (DeliveryGroup, group.id), (Order, uuid.uuid4())):
        with pytest.raises(NotFound) as refused:
            get_visible(acme.session, reader, model, id_)
        answers.append(refused.value.message)
    assert answers[0] == answers[2]
    mine, _ = served["Wang Fang"]
    assert get_visible(acme.session, reader, Order, mine.id).id == mine.id


def test_who_may_write_in_a_group(acme, served):
    _, group = served["Liu Yang"]
    assert may_write(acme.session, Reader.of(acme.admin), group)  # the dealer's administrator
    assert may_write(acme.session, Reader.of(acme.colleague), group)  # its owner
    assert may_write(acme.session, Reader.of(acme.designer), group)  # seated
    assert not may_write(acme.session, Reader.of(brand_member(acme)), group)  # reads only
    _, elsewhere = served["Zhang San"]
    assert not may_write(acme.session, Reader.of(acme.admin), elsewhere)
