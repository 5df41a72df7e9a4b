"""Handover: when a member leaves or changes job, every customer and group seat they hold
moves to a colleague, in one transaction, with nothing lost and no quota."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.chain.members import get_member
from service.chain.models import Chain, Member
from service.customers.models import AuditEntry, Customer
from service.db import get_in_chain, utcnow
from service.errors import Invalid
from service.groups.messages import post_system_message
from service.groups.models import DeliveryGroup, GroupMember
from service.reports.tallies import tally_seats
from service.system_texts import say


@dataclass(frozen=True)
class Handover:
    customers: int
    groups: int
    audit_entry_id: uuid.UUID


def hand_over(
    session: Session,
    *,
    chain_id: uuid.UUID,
    from_member_id: uuid.UUID,
    to_member_id: uuid.UUID,
    actor: str = "api",
) -> Handover:
    # The giver may have left (been removed) already: their customers must not be stranded.
    giver = get_in_chain(session, Member, chain_id, from_member_id, field="from_member_id")
    taker = get_member(session, chain_id, to_member_id, field="to_member_id")
    language = session.get(Chain, chain_id).language
    if giver.id == taker.id:
        raise Invalid.field("to_member_id", "Must be someone else.")
    if giver.organisation_id != taker.organisation_id:
        raise Invalid.field("to_member_id", "Must be a member of the same organisation.")

    customers = session.execute(
        update(Customer)
        .where(Customer.chain_id == chain_id, Customer.owner_member_id == giver.id)
        .values(owner_member_id=taker.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    owned = session.scalars(
        select(DeliveryGroup.id).where(
            DeliveryGroup.chain_id == chain_id, DeliveryGroup.owner_member_id == giver.id
        )
    ).all()
    session.execute(
        update(DeliveryGroup)
        .where(DeliveryGroup.chain_id == chain_id, DeliveryGroup.owner_member_id == giver.id)
        .values(owner_member_id=taker.id)
        .execution_options(synchronize_session=False)
    )
    # Every group whose owner changes is told, whether or not the giver had a seat in it.
    group_ids = list(dict.fromkeys([*owned, *_move_seats(session, giver.id, taker.id)]))
    _seat_owner(session, owned, taker.id)
    for group in session.scalars(select(DeliveryGroup).where(DeliveryGroup.id.in_(group_ids))):
        post_system_message(
            session,
            group=group,
            kind="notice",
            text=say(
                language,
                "%(giver)s has handed this group over to %(taker)s.",
                giver=giver.name,
                taker=taker.name,
            ),
            payload={"handover": {"from_member_id": str(giver.id), "to_member_id": str(taker.id)}},
        )
    entry = AuditEntry(
        chain_id=chain_id,
        action="handover",
        actor=actor,
        details={
            "from_member_id": str(giver.id),
            "to_member_id": str(taker.id),
            "customers": customers,
            "group_ids": [str(gid) for gid in group_ids],
        },
    )
    session.add(entry)
    session.flush()
    session.expire_all()
    return Handover(customers=customers, groups=len(group_ids), audit_entry_id=entry.id)


def _move_seats(session: Session, giver_id: uuid.UUID, taker_id: uuid.UUID) -> list[uuid.UUID]:
    """Give each of the giver's seats to the taker; where the taker is seated already,
    the giver's seat goes (keeping the owner's role if it was theirs)."""
    seats = session.scalars(select(GroupMember).where(GroupMember.member_id == giver_id)).all()
    group_ids = [seat.group_id for seat in seats]
    taken = {
        seat.group_id: seat
        for seat in session.scalars(
            select(GroupMember).where(
                GroupMember.member_id == taker_id, GroupMember.group_id.in_(group_ids)
            )
        )
    }
    for seat in seats:
        theirs = taken.get(seat.group_id)
        if theirs is None:
            seat.member_id = taker_id
            continue
        if seat.role == "owner":
            theirs.role = "owner"
        session.delete(seat)
        session.execute(
            update(DeliveryGroup)
            .where(DeliveryGroup.id == seat.group_id)
            .values(member_count=DeliveryGroup.member_count - 1)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return group_ids


def _seat_owner(session: Session, group_ids: list[uuid.UUID], owner_id: uuid.UUID) -> None:
    """The owner of each group has its owner's seat, including in a group that was made
    without one (before the owner always had a seat there)."""
    seated = {
        seat.group_id: seat
        for seat in session.scalars(
            select(GroupMember).where(
                GroupMember.member_id == owner_id, GroupMember.group_id.in_(group_ids)
            )
        )
    }
    added = []
    for group_id in group_ids:
        seat = seated.get(group_id)
        if seat is not None:
            seat.role = "owner"
            continue
        # Over the cap if need be: the owner must be able to answer in their group.
        session.add(GroupMember(group_id=group_id, member_id=owner_id, role="owner"))
        session.execute(
            update(DeliveryGroup)
            .where(DeliveryGroup.id == group_id)
            .values(member_count=DeliveryGroup.member_count + 1)
            .execution_options(synchronize_session=False)
        )
        added.append(group_id)
    session.flush()
    if added:
        groups = session.execute(
            select(DeliveryGroup.chain_id, DeliveryGroup.dealer_id).where(
                DeliveryGroup.id.in_(added)
            )
        ).all()
        taken = Counter((dealer_id, owner_id) for _chain_id, dealer_id in groups)
        tally_seats(session, groups[0].chain_id, taken, utcnow())


def change_owner(
    session: Session,
    *,
    chain_id: uuid.UUID,
    customer_id: uuid.UUID,
    to_member_id: uuid.UUID,
    actor: str = "api",
) -> Customer:
    """One customer, with their delivery group, moves to another member of their dealer: a
    handover of one customer rather than of everything a member holds. The previous owner's
    seat in the group goes to the new owner, the group is told, and the change is audited."""
    customer = get_in_chain(session, Customer, chain_id, customer_id)
    taker = get_member(session, chain_id, to_member_id, field="to_member_id")
    if taker.organisation_id != customer.dealer_id:
        raise Invalid.field("to_member_id", "Must be a member of the customer's dealer.")
    giver_id = customer.owner_member_id
    if giver_id == taker.id:
        return customer
    giver = session.get(Member, giver_id)
    customer.owner_member_id = taker.id
    group = session.scalar(select(DeliveryGroup).where(DeliveryGroup.customer_id == customer.id))
    if group is not None:
        group.owner_member_id = taker.id
        session.flush()
        _move_seat(session, group.id, giver_id, taker.id)
        _seat_owner(session, [group.id], taker.id)
        post_system_message(
            session,
            group=group,
            kind="notice",
            text=say(
                session.get(Chain, chain_id).language,
                "%(giver)s has handed this group over to %(taker)s.",
                giver=giver.name,
                taker=taker.name,
            ),
            payload={"handover": {"from_member_id": str(giver_id), "to_member_id": str(taker.id)}},
        )
    session.add(
        AuditEntry(
            chain_id=chain_id,
            action="owner_change",
            actor=actor,
            details={
                "customer_id": str(customer.id),
                "from_member_id": str(giver_id),
                "to_member_id": str(taker.id),
                "group_id": str(group.id) if group is not None else None,
            },
        )
    )
    session.flush()
    session.expire_all()  # the member counts were changed by statements, not on the objects
    return customer


def _move_seat(
    session: Session, group_id: uuid.UUID, giver_id: uuid.UUID, taker_id: uuid.UUID
) -> None:
    """The giver's seat in one group goes to the taker, or goes if the taker sits there."""
    seat = session.scalar(
        select(GroupMember).where(
            GroupMember.group_id == group_id, GroupMember.member_id == giver_id
        )
    )
    if seat is None:
        return
    taken = session.scalar(
        select(GroupMember).where(
            GroupMember.group_id == group_id, GroupMember.member_id == taker_id
        )
    )
    if taken is None:
        seat.member_id = taker_id
    else:
        session.delete(seat)
        session.execute(
            update(DeliveryGroup)
            .where(DeliveryGroup.id == group_id)
            .values(member_count=DeliveryGroup.member_count - 1)
            .execution_options(synchronize_session=False)
        )
    session.flush()
