"""Handover: every customer and group seat of a member moves to a colleague, in one
transaction, with nothing lost."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select

from service.chain.members import remove_member
from service.customers.handovers import hand_over
from service.customers.models import AuditEntry, Customer
from service.errors import Invalid
from service.groups.groups import add_group_member, seats
from service.groups.messages import list_messages
from service.groups.models import DeliveryGroup, GroupMember, Message
from service.groups.templates import create_template


@pytest.fixture
def book(acme):
    """The owner's book: two customers with groups, and a third customer (the colleague's)
    whose group the owner sits in. The colleague already sits in the second group."""
    first, second = acme.customer("Wang Fang"), acme.customer("Zhang San")
    theirs = acme.customer("Liu Yang", owner=acme.colleague)
    groups = [acme.order(customer)[1] for customer in (first, second, theirs)]
    add_group_member(
        acme.session, chain_id=acme.id, group_id=groups[1].id, member_id=acme.colleague.id
    )
    add_group_member(acme.session, chain_id=acme.id, group_id=groups[2].id, member_id=acme.owner.id)
    return [first, second, theirs], groups


def hand(acme, giver=None, taker=None):
    return hand_over(
        acme.session,
        chain_id=acme.id,
        from_member_id=(giver or acme.owner).id,
        to_member_id=(taker or acme.colleague).id,
    )


def roles(session, group) -> dict:
    return {seat.member_id: seat.role for seat in seats(session, group.id)}


def test_every_customer_of_the_giver_goes_to_the_taker(acme, book):
    customers, _ = book
    other_dealers = acme.customer("Zhou Jie", dealer=acme.other_dealer, owner=acme.their_owner)

    done = hand(acme)

    assert done.customers == 2
    acme.session.expire_all()
    assert [customer.owner_member_id for customer in customers] == [acme.colleague.id] * 3
    assert other_dealers.owner_member_id == acme.their_owner.id
    assert acme.count(Customer, Customer.owner_member_id == acme.owner.id) == 0


def test_groups_change_owner_and_the_giver_leaves_every_seat(acme, book):
    _, groups = book

    done = hand(acme)

    assert done.groups == 3
    for group in groups:
        acme.session.refresh(group)
        assert group.owner_member_id == acme.colleague.id
        assert roles(acme.session, group)[acme.colleague.id] == "owner"
        assert acme.owner.id not in roles(acme.session, group)


def test_where_the_taker_sits_already_one_seat_is_left_and_the_count_stays_right(acme, book):
    _, groups = book
    before = {group.id: set(roles(acme.session, group)) for group in groups}

    hand(acme)

    for group in groups:
        acme.session.refresh(group)
        seated = roles(acme.session, group)
        assert group.member_count == len(seated) == 4
        assert set(seated) == (before[group.id] - {acme.owner.id}) | {acme.colleague.id}
        # The customer, the new owner, the designer and the installer.
        assert sorted(seated.values()) == ["customer", "member", "member", "owner"]


def test_a_plain_seat_does_not_take_the_owner_role_from_the_taker(acme, book):
    # In the colleague's own group the owner sat as a plain member.
    _, groups = book

    hand(acme)

    assert roles(acme.session, groups[2])[acme.colleague.id] == "owner"


def test_a_notice_is_posted_in_each_affected_group(acme, book):
    _, groups = book
    untouched = acme.order(
        acme.customer("Zhou Jie", dealer=acme.other_dealer, owner=acme.their_owner)
    )[1]

    hand(acme)

    for group in groups:
        newest = list_messages(acme.session, group_id=group.id, limit=1).items[0]
        assert (newest.sender, newest.kind) == ("system", "notice")
        assert newest.text == "Li Wei 已将本群交接给 Zhao Min。"  # the chain speaks Chinese
        assert newest.payload == {
            "handover": {
                "from_member_id": str(acme.owner.id),
                "to_member_id": str(acme.colleague.id),
            }
        }
    assert acme.count(Message, Message.group_id == untouched.id, Message.kind == "notice") == 0


def test_the_new_owner_is_seated_where_the_templates_roles_leave_owner_out(acme):
    create_template(
        acme.session, chain_id=acme.id, directory_group_id=None, member_roles=["designer"]
    )
    _, group = acme.order(acme.customer())

    hand(acme)

    acme.session.refresh(group)
    assert roles(acme.session, group) == {
        None: "customer",
        acme.colleague.id: "owner",
        acme.designer.id: "member",
    }
    assert group.member_count == 3


def test_a_group_the_giver_owns_without_a_seat_is_handed_over_and_the_taker_seated(acme):
    # A group made before the owner always had a seat: it has none for them.
    _, group = acme.order(acme.customer())
    acme.session.execute(
        delete(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.member_id == acme.owner.id
        )
    )
    group.member_count -= 1
    acme.session.flush()

    done = hand(acme)

    acme.session.refresh(group)
    assert group.owner_member_id == acme.colleague.id
    assert roles(acme.session, group)[acme.colleague.id] == "owner"
    assert group.member_count == len(roles(acme.session, group)) == 4
    assert done.groups == 1
    newest = list_messages(acme.session, group_id=group.id, limit=1).items[0]
    assert newest.kind == "notice"


def test_handover_leaves_an_audit_entry(acme, book):
    _, groups = book

    done = hand(acme)

    entry = acme.session.get(AuditEntry, done.audit_entry_id)
    assert (entry.chain_id, entry.action, entry.actor) == (acme.id, "handover", "api")
    assert entry.details["from_member_id"] == str(acme.owner.id)
    assert entry.details["to_member_id"] == str(acme.colleague.id)
    assert entry.details["customers"] == 2
    assert sorted(entry.details["group_ids"]) == sorted(str(group.id) for group in groups)


def test_no_customer_group_or_message_is_lost(acme, book):
    def snapshot():
        return (
            set(acme.session.scalars(select(Customer.id).where(Customer.chain_id == acme.id))),
            set(
                acme.session.scalars(
                    select(DeliveryGroup.id).where(DeliveryGroup.chain_id == acme.id)
                )
            ),
            set(acme.session.scalars(select(Message.id).where(Message.chain_id == acme.id))),
        )

    customers, groups, messages = snapshot()

    hand(acme)

    after_customers, after_groups, after_messages = snapshot()
    assert (after_customers, after_groups) == (customers, groups)
    assert messages < after_messages
    assert len(after_messages - messages) == 3  # the notices


def test_handover_does_not_commit_its_own_transaction(acme, book):
    customers, groups = book
    acme.session.commit()

    hand(acme)
    acme.session.rollback()

    assert [customer.owner_member_id for customer in customers[:2]] == [acme.owner.id] * 2
    for group in groups[:2]:
        acme.session.refresh(group)
        assert group.owner_member_id == acme.owner.id
        assert roles(acme.session, group)[acme.owner.id] == "owner"
    assert acme.count(AuditEntry) == 0
    assert acme.count(Message, Message.kind == "notice") == 0


def test_customers_of_a_member_who_has_left_can_still_be_handed_over(acme, book):
    customers, groups = book
    remove_member(acme.session, chain_id=acme.id, member_id=acme.owner.id)

    done = hand(acme)

    assert done.customers == 2
    acme.session.expire_all()
    assert {customer.owner_member_id for customer in customers} == {acme.colleague.id}
    assert {group.owner_member_id for group in groups} == {acme.colleague.id}


def test_there_is_no_quota_on_handovers(acme, book):
    customers, _ = book
    for _ in range(3):
        hand(acme, acme.owner, acme.colleague)
        hand(acme, acme.colleague, acme.owner)

    acme.session.expire_all()
    assert {customer.owner_member_id for customer in customers} == {acme.owner.id}
    assert acme.count(AuditEntry) == 6


@pytest.mark.parametrize("taker", ["owner", "their_owner", "coordinator", "gone"])
def test_taker_must_be_someone_else_still_in_the_same_organisation(acme, book, taker):
    customers, groups = book
    seated = {group.id: roles(acme.session, group) for group in groups}

    with pytest.raises(Invalid) as raised:
        hand(acme, taker=getattr(acme, taker))

    assert list(raised.value.details["fields"]) == ["to_member_id"]
    assert {customer.owner_member_id for customer in customers[:2]} == {acme.owner.id}
    assert {group.id: roles(acme.session, group) for group in groups} == seated
    assert acme.count(AuditEntry) == 0


def test_members_of_another_chain_are_refused(acme, rival, book):
    with pytest.raises(Invalid) as raised:
        hand(acme, taker=rival.colleague)
    assert list(raised.value.details["fields"]) == ["to_member_id"]

    with pytest.raises(Invalid) as raised:
        hand(acme, giver=rival.owner)
    assert list(raised.value.details["fields"]) == ["from_member_id"]

    with pytest.raises(Invalid) as raised:
        hand_over(
            acme.session, chain_id=acme.id, from_member_id=uuid.uuid4(), to_member_id=acme.owner.id
        )
    assert list(raised.value.details["fields"]) == ["from_member_id"]
    assert acme.count(AuditEntry) == rival.count(AuditEntry) == 0
