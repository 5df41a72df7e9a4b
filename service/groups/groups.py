"""Delivery groups: one per customer, made from a template on the customer's first order."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service.chain.chains import brand_of
from service.chain.directory import visible_to
from service.chain.members import get_member
from service.chain.models import Member, Organisation, OrganisationKind
from service.chain.organisations import get_organisation
from service.customers.links import create_link, link_url
from service.customers.models import Customer
from service.db import get_in_chain
from service.errors import Conflict, Invalid, Reason, no_such
from service.groups.messages import post_system_message
from service.groups.models import DeliveryGroup, GroupMember
from service.groups.templates import render, template_for_dealer
from service.pagination import Page, paginate
from service.reports.tallies import tally_group_seats


def group_of_customer(session: Session, customer_id: uuid.UUID) -> DeliveryGroup | None:
    return session.scalar(select(DeliveryGroup).where(DeliveryGroup.customer_id == customer_id))


class _Placeholders(dict):
    """The values a template's patterns may use. The brand's name costs a query and the
    customer's link makes a link, so each is made only when a pattern asks for it."""

    def __init__(
        self,
        session: Session,
        customer: Customer,
        *,
        public_url: str | None,
        **values: str,
    ):
        super().__init__(values)
        self._session, self._customer, self._public_url = session, customer, public_url

    def __missing__(self, key: str) -> str:
        if key == "brand_name":
            self[key] = brand_of(self._session, self._customer.chain_id).name
        elif key == "customer_link":
            _, token = create_link(
                self._session, chain_id=self._customer.chain_id, customer_id=self._customer.id
            )
            self[key] = link_url(self._public_url, token)
        else:
            raise KeyError(key)
        return self[key]


def ensure_delivery_group(
    session: Session, customer: Customer, *, public_url: str | None = None
) -> tuple[DeliveryGroup, bool]:
    """The customer's group, made now if this is their first order: named and peopled by
    the template that applies to their dealer, opened with its welcome message. A welcome
    with `{customer_link}` carries a new private link of the customer's (the default 90
    days), its URL under `public_url`, or its path alone when there is none."""
    existing = group_of_customer(session, customer.id)
    if existing is not None:
        return existing, False
    template = template_for_dealer(session, customer.chain_id, customer.dealer_id)
    owner = session.get(Member, customer.owner_member_id)
    values = _Placeholders(
        session,
        customer,
        public_url=public_url,
        customer_name=customer.name,
        dealer_name=owner.organisation.name,
        owner_name=owner.name,
    )
    # The customer and their owner always have seats (the owner answers in the group); the
    # template's roles say who else of the dealer joins.
    seated: list[tuple[uuid.UUID | None, str]] = [(None, "customer"), (owner.id, "owner")]
    roles = [role for role in template.member_roles if role != "owner"]
    if roles:
        joining = session.scalars(
            select(Member.id)
            .where(
                Member.organisation_id == customer.dealer_id,
                Member.role.in_(roles),
                Member.removed_at.is_(None),
                Member.id != owner.id,
            )
            .order_by(Member.id)
            .limit(template.member_cap - len(seated))
        )
        seated += [(member_id, "member") for member_id in joining]
    # Counted before the group is written, so that it is written once.
    group = DeliveryGroup(
        chain_id=customer.chain_id,
        customer_id=customer.id,
        dealer_id=customer.dealer_id,
        owner_member_id=owner.id,
        template_id=template.id,
        name=render(template.name_pattern, values)[:200],
        rename_locked=template.rename_locked,
        member_cap=template.member_cap,
        member_count=len(seated),
    )
    session.add(group)
    # The group's row first: its seats and messages refer to it.
    session.flush()
    session.add_all(
        GroupMember(group_id=group.id, member_id=member_id, role=role) for member_id, role in seated
    )
    tally_group_seats(session, group, len(seated), group.created_at)
    if template.welcome_message.strip():
        post_system_message(
            session, group=group, kind="welcome", text=render(template.welcome_message, values)
        )
    session.flush()
    return group, True


def list_groups(
    session: Session,
    *,
    chain_id: uuid.UUID,
    dealer_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    stmt = select(DeliveryGroup).where(DeliveryGroup.chain_id == chain_id)
    # A filter naming something outside the chain is a bad request, as everywhere else.
    if dealer_id:
        get_organisation(session, chain_id, dealer_id, field="dealer_id")
        stmt = stmt.where(DeliveryGroup.dealer_id == dealer_id)
    if member_id:
        get_member(session, chain_id, member_id, field="member_id")
        stmt = stmt.where(
            DeliveryGroup.id.in_(
                select(GroupMember.group_id).where(GroupMember.member_id == member_id)
            )
        )
    return paginate(session, stmt, DeliveryGroup.id, cursor=cursor, limit=limit, newest_first=True)


def seats(session: Session, group_id: uuid.UUID) -> list[GroupMember]:
    return list(
        session.scalars(
            select(GroupMember).where(GroupMember.group_id == group_id).order_by(GroupMember.id)
        )
    )


def is_seated(session: Session, group_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(func.count()).where(
                GroupMember.group_id == group_id, GroupMember.member_id == member_id
            )
        )
        > 0
    )


def add_group_member(
    session: Session, *, chain_id: uuid.UUID, group_id: uuid.UUID, member_id: uuid.UUID
) -> GroupMember:
    """Seat a member of the chain (a factory coordinator, say) in one group. They see this
    group only; adding them again is a no-op."""
    group = get_in_chain(session, DeliveryGroup, chain_id, group_id)
    member = get_member(session, chain_id, member_id, field="member_id")
    _check_may_join(session, group, member)
    existing = session.scalar(
        select(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.member_id == member.id
        )
    )
    if existing is not None:
        return existing
    # Count and cap in one conditional UPDATE: two concurrent adds cannot both take the
    # last seat.
    taken = session.execute(
        update(DeliveryGroup)
        .where(DeliveryGroup.id == group.id, DeliveryGroup.member_count < DeliveryGroup.member_cap)
        .values(member_count=DeliveryGroup.member_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict(
            Reason("The group is full: it has its cap of {cap} members.", cap=group.member_cap),
            code="group_full",
        )
    # Groups made before the owner always had a seat are mended this way.
    role = "owner" if member.id == group.owner_member_id else "member"
    seat = GroupMember(group_id=group.id, member_id=member.id, role=role)
    session.add(seat)
    session.flush()
    tally_group_seats(session, group, 1, seat.added_at)
    session.refresh(group)
    return seat


def _check_may_join(session: Session, group: DeliveryGroup, member: Member) -> None:
    """A customer is their dealer's: the group takes the dealer's own people, the brand's and
    the factories', but another dealer's only where a visibility rule lets the customer's
    dealer see that dealer, as the shared directory would."""
    organisation = member.organisation
    if organisation.id == group.dealer_id or organisation.kind != OrganisationKind.DEALER:
        return
    dealer = session.get(Organisation, group.dealer_id)
    visible = session.scalar(
        select(Organisation.id).where(
            Organisation.id == organisation.id, visible_to(session, group.chain_id, dealer)
        )
    )
    if visible is None:
        raise Invalid.field(
            "member_id", "A member of another dealer, which the customer's dealer may not see."
        )


def remove_group_member(
    session: Session, *, chain_id: uuid.UUID, group_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    group = get_in_chain(session, DeliveryGroup, chain_id, group_id)
    if member_id == group.owner_member_id:
        raise Conflict(
            "The owner stays in the group; hand the customer over to move them.",
            code="owner_stays",
        )
    removed = session.execute(
        delete(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.member_id == member_id
        )
    ).rowcount
    if not removed:
        raise no_such("member of this group")
    session.execute(
        update(DeliveryGroup)
        .where(DeliveryGroup.id == group.id)
        .values(member_count=DeliveryGroup.member_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(group)


def update_group(
    session: Session,
    *,
    chain_id: uuid.UUID,
    group_id: uuid.UUID,
    name: str | None = None,
    rename_locked: bool | None = None,
) -> DeliveryGroup:
    """Rename (refused while the group is locked) or lock/unlock renaming."""
    group = get_in_chain(session, DeliveryGroup, chain_id, group_id)
    if rename_locked is not None:
        group.rename_locked = rename_locked
    if name is not None and name.strip() != group.name:
        if group.rename_locked:
            raise Conflict("This group's name is locked by its template.", code="rename_locked")
        if not name.strip():
            raise Invalid.field("name", "Must not be blank.")
        group.name = name.strip()
    session.flush()
    return group
