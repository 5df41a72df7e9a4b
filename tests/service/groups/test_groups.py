"""Delivery groups: one per customer, made from a template on the customer's first order."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.chain.directory_groups import ensure_path
from service.chain.members import add_member
from service.chain.organisations import update_organisation
from service.chain.visibility import add_rule
from service.db import get_in_chain
from service.errors import Conflict, Invalid, NotFound
from service.groups.groups import (
    add_group_member,
    ensure_delivery_group,
    is_seated,
    list_groups,
    remove_group_member,
    seats,
    update_group,
)
from service.groups.messages import list_messages, post_message
from service.groups.models import DeliveryGroup, GroupMember, Message
from service.groups.templates import create_template
from tests.service.customers.chain_world import new_customers_group, race


def template(world, **values):
    """Set the chain's default template (what is not given goes back to the defaults)."""
    return create_template(world.session, chain_id=world.id, directory_group_id=None, **values)


def seated(world, group) -> dict:
    """Who sits in the group: member id (None for the customer) → seat role."""
    return {seat.member_id: seat.role for seat in seats(world.session, group.id)}


def add(world, group, member):
    return add_group_member(
        world.session, chain_id=world.id, group_id=group.id, member_id=member.id
    )


def remove(world, group, member):
    remove_group_member(world.session, chain_id=world.id, group_id=group.id, member_id=member.id)


def test_group_is_made_on_the_first_order_and_kept_for_the_next(acme):
    customer = acme.customer()
    assert acme.count(DeliveryGroup) == 0

    _, first = acme.order(customer)
    _, second = acme.order(customer)

    assert second.id == first.id
    assert acme.count(DeliveryGroup) == 1
    assert acme.count(Message, Message.kind == "welcome") == 1
    assert ensure_delivery_group(acme.session, customer) == (first, False)


def test_each_customer_has_a_group_of_their_own(acme):
    _, first = acme.order(acme.customer("Wang Fang"))
    _, second = acme.order(acme.customer("Zhang San"))

    assert first.id != second.id
    assert (first.name, second.name) == ("Wang Fang·Bund Home", "Zhang San·Bund Home")


def test_seats_are_the_customer_the_owner_and_the_dealers_members_with_the_roles(acme):
    _, group = acme.order(acme.customer())

    assert seated(acme, group) == {
        None: "customer",
        acme.owner.id: "owner",
        acme.designer.id: "member",
        acme.installer.id: "member",
    }
    assert group.member_count == 4
    # Not the dealer's sales or admin, nor the designer who left, nor the other dealer's
    # designer and installer, nor the factories' coordinators.
    for outsider in (
        acme.sales,
        acme.admin,
        acme.gone,
        acme.their_designer,
        acme.their_installer,
        acme.coordinator,
        acme.colleague,
    ):
        assert not is_seated(acme.session, group.id, outsider.id)


def test_the_templates_roles_decide_who_joins(acme):
    template(acme, member_roles=["owner", "sales", "admin"])

    _, group = acme.order(acme.customer())

    assert seated(acme, group) == {
        None: "customer",
        acme.owner.id: "owner",
        acme.sales.id: "member",
        acme.admin.id: "member",
    }


@pytest.mark.parametrize("roles", [["designer"], []])
def test_the_owner_has_a_seat_though_the_templates_roles_leave_owner_out(acme, roles):
    template(acme, member_roles=roles)

    _, group = acme.order(acme.customer())

    assert group.owner_member_id == acme.owner.id
    expected = {None: "customer", acme.owner.id: "owner"}
    if roles:
        expected[acme.designer.id] = "member"
    assert seated(acme, group) == expected
    assert group.member_count == len(expected)
    [posted], _ = post_message(
        acme.session,
        group=group,
        text="I will call you today.",
        sender="member",
        sender_member_id=acme.owner.id,
    )
    assert posted.sender_member_id == acme.owner.id


def test_seating_the_owner_in_a_group_made_without_their_seat_gives_the_owners_seat(acme):
    # Groups made before the owner always had a seat lack it; seating the owner mends them.
    _, group = acme.order(acme.customer())
    acme.session.execute(
        delete(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.member_id == acme.owner.id
        )
    )
    group.member_count -= 1
    acme.session.flush()

    seat = add(acme, group, acme.owner)

    assert seat.role == "owner"
    assert group.member_count == len(seated(acme, group)) == 4


def test_the_smallest_cap_still_seats_the_customer_and_the_owner(acme):
    template(acme, member_roles=["designer", "installer"], member_cap=2)

    _, group = acme.order(acme.customer())

    assert seated(acme, group) == {None: "customer", acme.owner.id: "owner"}


def test_an_owner_with_a_joining_role_has_one_seat(acme):
    customer = acme.customer(owner=acme.designer)

    _, group = acme.order(customer)

    assert seated(acme, group) == {
        None: "customer",
        acme.designer.id: "owner",
        acme.installer.id: "member",
    }
    assert group.member_count == 3


def test_a_new_group_never_starts_over_its_cap(acme):
    template(acme, member_cap=3)

    _, group = acme.order(acme.customer())

    assert group.member_count == len(seated(acme, group)) == 3
    assert seated(acme, group)[acme.owner.id] == "owner"


def test_the_template_of_the_dealers_directory_group_is_used(acme):
    east, _ = ensure_path(acme.session, chain_id=acme.id, path="East")
    east_template = create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=east.id,
        name="East",
        name_pattern="{dealer_name} for {customer_name}",
        welcome_message="{brand_name} welcomes {customer_name}; {owner_name} is yours.",
        member_roles=["owner", "installer"],
        rename_locked=False,
        member_cap=10,
    )
    update_organisation(
        acme.session, chain_id=acme.id, organisation_id=acme.dealer.id, group_ids=[east.id]
    )

    _, group = acme.order(acme.customer())
    _, theirs = acme.order(
        acme.customer("Ma Qing", dealer=acme.other_dealer, owner=acme.their_owner)
    )

    assert (group.template_id, group.name) == (east_template.id, "Bund Home for Wang Fang")
    assert (group.rename_locked, group.member_cap) == (False, 10)
    assert set(seated(acme, group)) == {None, acme.owner.id, acme.installer.id}
    [welcome] = list_messages(acme.session, group_id=group.id).items
    assert welcome.text == "Acme Home welcomes Wang Fang; Li Wei is yours."
    assert theirs.template_id != east_template.id
    assert theirs.name == "Ma Qing·Riverside Living"


def test_the_welcome_message_is_the_first_message_and_rendered(acme):
    customer = acme.customer()
    _, group = acme.order(customer)
    post_message(acme.session, group=group, text="Hello!", sender="customer")
    acme.order(customer)  # a second order posts no second welcome

    history = list_messages(acme.session, group_id=group.id).items[::-1]

    assert [(m.sender, m.kind) for m in history] == [("system", "welcome"), ("customer", "text")]
    # The default template's welcome, in the chain's language (Chinese unless it says not).
    assert history[0].text == (
        "Wang Fang，欢迎您！Bund Home 的 Li Wei 和为您设计、生产、安装的团队都在这个群里。"
        "订单每完成一步，我们都会在群里告诉您。"
    )


def test_a_template_without_a_welcome_opens_a_silent_group(acme):
    template(acme, welcome_message="  ")

    _, group = acme.order(acme.customer())

    assert acme.count(Message, Message.group_id == group.id) == 0


# --- Members added later ---


def test_adding_past_the_cap_is_refused(acme):
    template(acme, member_cap=5)
    _, group = acme.order(acme.customer())  # customer, owner, designer, installer

    add(acme, group, acme.coordinator)
    with pytest.raises(Conflict) as raised:
        add(acme, group, acme.other_coordinator)

    assert raised.value.code == "group_full"
    assert "5" in raised.value.message
    acme.session.refresh(group)
    assert group.member_count == len(seated(acme, group)) == 5
    assert not is_seated(acme.session, group.id, acme.other_coordinator.id)


def test_a_seat_freed_below_the_cap_can_be_taken(acme):
    template(acme, member_cap=4)
    _, group = acme.order(acme.customer())
    with pytest.raises(Conflict):
        add(acme, group, acme.coordinator)

    remove(acme, group, acme.installer)
    add(acme, group, acme.coordinator)

    assert group.member_count == len(seated(acme, group)) == 4


def test_adding_a_member_twice_is_one_seat(acme):
    _, group = acme.order(acme.customer())

    first = add(acme, group, acme.coordinator)
    again = add(acme, group, acme.coordinator)

    assert again.id == first.id
    assert group.member_count == len(seated(acme, group)) == 5


def test_a_factory_member_added_to_one_group_sits_in_that_group_only(acme):
    _, wangs = acme.order(acme.customer("Wang Fang"))
    _, zhangs = acme.order(acme.customer("Zhang San"))

    seat = add(acme, wangs, acme.coordinator)

    assert seat.role == "member"
    assert is_seated(acme.session, wangs.id, acme.coordinator.id)
    assert not is_seated(acme.session, zhangs.id, acme.coordinator.id)
    groups = list_groups(acme.session, chain_id=acme.id, member_id=acme.coordinator.id).items
    assert [group.id for group in groups] == [wangs.id]


@pytest.mark.parametrize("who", ["gone", "unknown", "foreign"])
def test_only_live_members_of_the_chain_can_be_added(acme, rival, who):
    _, group = acme.order(acme.customer())
    member_id = {"gone": acme.gone.id, "unknown": uuid.uuid4(), "foreign": rival.owner.id}[who]

    with pytest.raises(Invalid) as raised:
        add_group_member(acme.session, chain_id=acme.id, group_id=group.id, member_id=member_id)

    assert list(raised.value.details["fields"]) == ["member_id"]
    assert group.member_count == 4


def test_a_member_of_another_dealer_is_not_seated(acme):
    _, group = acme.order(acme.customer())

    with pytest.raises(Invalid) as raised:
        add(acme, group, acme.their_designer)

    assert list(raised.value.details["fields"]) == ["member_id"]
    assert not is_seated(acme.session, group.id, acme.their_designer.id)
    assert group.member_count == 4


def test_the_brands_and_the_factories_people_are_seated(acme):
    _, group = acme.order(acme.customer())
    brand_admin = add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Ma", role="admin"
    )

    add(acme, group, brand_admin)
    add(acme, group, acme.coordinator)

    assert {brand_admin.id, acme.coordinator.id} <= set(seated(acme, group))


def test_a_visibility_rule_lets_the_customers_dealer_seat_another_dealers_member(acme):
    # Rules apply to the groups an organisation sits in or below, on both sides.
    shanghai, _ = ensure_path(acme.session, chain_id=acme.id, path="Dealers/Shanghai")
    partners, _ = ensure_path(acme.session, chain_id=acme.id, path="Partners/Installers")
    for dealer, where in ((acme.dealer, shanghai), (acme.other_dealer, partners)):
        update_organisation(
            acme.session, chain_id=acme.id, organisation_id=dealer.id, group_ids=[where.id]
        )
    _, ours = acme.order(acme.customer())
    _, theirs = acme.order(
        acme.customer("Ma Qing", dealer=acme.other_dealer, owner=acme.their_owner)
    )
    dealers, _ = ensure_path(acme.session, chain_id=acme.id, path="Dealers")
    partners_root, _ = ensure_path(acme.session, chain_id=acme.id, path="Partners")
    add_rule(
        acme.session,
        chain_id=acme.id,
        viewer_group_id=dealers.id,
        visible_group_id=partners_root.id,
    )

    add(acme, ours, acme.their_installer)

    assert seated(acme, ours)[acme.their_installer.id] == "member"
    # The rule goes one way: the other dealer may not see ours, so our people stay out.
    with pytest.raises(Invalid):
        add(acme, theirs, acme.installer)


def test_groups_of_another_chain_are_not_found(acme, rival):
    _, theirs = rival.order(rival.customer())

    with pytest.raises(NotFound):
        get_in_chain(acme.session, DeliveryGroup, acme.id, theirs.id)
    with pytest.raises(NotFound):
        add_group_member(
            acme.session, chain_id=acme.id, group_id=theirs.id, member_id=acme.coordinator.id
        )
    with pytest.raises(NotFound):
        update_group(acme.session, chain_id=acme.id, group_id=theirs.id, rename_locked=False)
    assert theirs.member_count == 4


def test_the_owner_cannot_be_removed(acme):
    _, group = acme.order(acme.customer())

    with pytest.raises(Conflict) as raised:
        remove(acme, group, acme.owner)

    assert raised.value.code == "owner_stays"
    assert seated(acme, group)[acme.owner.id] == "owner"
    assert group.member_count == 4


def test_removing_a_member_frees_their_seat(acme):
    _, group = acme.order(acme.customer())

    remove(acme, group, acme.designer)

    assert acme.designer.id not in seated(acme, group)
    assert group.member_count == len(seated(acme, group)) == 3
    with pytest.raises(NotFound):
        remove(acme, group, acme.designer)
    assert group.member_count == 3


def test_groups_are_listed_per_dealer(acme, rival):
    _, ours = acme.order(acme.customer())
    _, theirs = acme.order(
        acme.customer("Ma Qing", dealer=acme.other_dealer, owner=acme.their_owner)
    )
    rival.order(rival.customer())

    def listed(**filters):
        return [g.id for g in list_groups(acme.session, chain_id=acme.id, **filters).items]

    assert listed() == [theirs.id, ours.id]
    assert listed(dealer_id=acme.dealer.id) == [ours.id]
    assert listed(dealer_id=acme.other_dealer.id) == [theirs.id]
    with pytest.raises(Invalid):
        listed(dealer_id=rival.dealer.id)


# --- Renaming ---


def test_a_locked_group_cannot_be_renamed(acme):
    _, group = acme.order(acme.customer())
    assert group.rename_locked

    with pytest.raises(Conflict) as raised:
        update_group(acme.session, chain_id=acme.id, group_id=group.id, name="Party")

    assert raised.value.code == "rename_locked"
    acme.session.refresh(group)
    assert group.name == "Wang Fang·Bund Home"
    # Giving the name it has already is no rename.
    update_group(acme.session, chain_id=acme.id, group_id=group.id, name=" Wang Fang·Bund Home ")


def test_an_unlocked_group_can_be_renamed(acme):
    _, group = acme.order(acme.customer())

    update_group(acme.session, chain_id=acme.id, group_id=group.id, rename_locked=False)
    renamed = update_group(acme.session, chain_id=acme.id, group_id=group.id, name=" Villa 7 ")

    assert renamed.name == "Villa 7"
    with pytest.raises(Invalid) as raised:
        update_group(acme.session, chain_id=acme.id, group_id=group.id, name="   ")
    assert list(raised.value.details["fields"]) == ["name"]


def test_a_template_without_the_lock_makes_renamable_groups(acme):
    template(acme, rename_locked=False)
    _, group = acme.order(acme.customer())

    assert update_group(acme.session, chain_id=acme.id, group_id=group.id, name="Villa").name == (
        "Villa"
    )


# --- Races (PostgreSQL) ---


def test_two_sessions_adding_for_the_last_seat_seat_exactly_one(engine, racing):
    with Session(engine, expire_on_commit=False) as setup:
        template(replace(racing, session=setup), member_roles=["owner"], member_cap=3)
        group = new_customers_group(setup, racing)  # the customer and the owner
        setup.commit()
    assert group.member_count == 2

    def adding(session, member):
        return add_group_member(session, chain_id=racing.id, group_id=group.id, member_id=member.id)

    with Session(engine) as first, Session(engine) as second:
        adding(first, racing.sales)  # the last seat, not committed yet
        with pytest.raises(Conflict) as raised:
            race(engine, first, second, lambda session: adding(session, racing.admin))
        assert raised.value.code == "group_full"

    with Session(engine) as check:
        stored = check.get(DeliveryGroup, group.id)
        seated_ids = set(
            check.scalars(select(GroupMember.member_id).where(GroupMember.group_id == group.id))
        )
    assert stored.member_count == len(seated_ids) == 3
    assert seated_ids == {None, racing.owner.id, racing.sales.id}
