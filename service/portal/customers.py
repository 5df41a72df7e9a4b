"""The portal's customers: found, added and handed to another owner, always within what the
reader may see (service.portal.access)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, cast, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from service.chain.mobiles import normalise_mobile
from service.chain.models import Member
from service.customers.customers import add_customer, shown_mobile
from service.customers.handovers import change_owner as hand_over_customer
from service.customers.models import Customer
from service.errors import Conflict, DomainError, Invalid
from service.groups.models import DeliveryGroup
from service.orders.models import Order
from service.pagination import Page, paginate
from service.portal.access import (
    Reader,
    customers_visible,
    get_visible,
    groups_visible,
    orders_visible,
)

# What a typed mobile may look like: digits and the marks people put between them.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]+")
# The fewest trailing digits a search matches a mobile by ("the last four").
MIN_TAIL = 4


class NotAllowed(DomainError):
    """The reader may see this but not change it."""

    status = 403
    code = "forbidden"


class KnownMobile(Conflict):
    """The chain already has a customer with this mobile. `customer` is that customer when the
    reader may open them, else None: whose they are is not the reader's to learn. `same_dealer`
    says whether they are the reader's dealer's (a colleague's) or another dealer's."""

    code = "customer_exists"

    def __init__(self, customer: Customer | None, *, same_dealer: bool):
        super().__init__("The chain already has a customer with this mobile.")
        self.customer = customer
        self.same_dealer = same_dealer


def search_customers(
    session: Session,
    reader: Reader,
    *,
    query: str = "",
    mine: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The reader's customers, newest first; `query` matches a name (any part, any case), a
    tag (whole), or a mobile typed in any format (the whole number, or its last 4+ digits)."""
    stmt = select(Customer).where(customers_visible(reader, mine=mine))
    query = query.strip()
    if query:
        stmt = stmt.where(_matches(session, query))
    return paginate(session, stmt, Customer.id, cursor=cursor, limit=limit, newest_first=True)


def _matches(session: Session, query: str) -> ColumnElement[bool]:
    name = func.lower(Customer.name).contains(query.lower(), autoescape=True)
    return or_(name, has_tag(session, query), _mobile_matches(query))


def _mobile_matches(query: str) -> ColumnElement[bool]:
    if not _PHONE_LIKE.fullmatch(query):
        return false()
    digits = re.sub(r"\D", "", query)
    if len(digits) < MIN_TAIL:
        return false()
    # Stored in E.164: "138 1234 5678", "+86-138…" and "5678" are all its tail.
    tail = Customer.mobile.endswith(digits)
    try:
        return or_(tail, Customer.mobile == normalise_mobile(query))  # "0086 138…", "(0)…"
    except Invalid:
        return tail


def has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    """Whether the customer's tags (a JSON list) include `tag`, as each backend asks it."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(Customer.tags, JSONB).contains([tag])
    each = func.json_each(Customer.tags).table_valued("value")
    return select(literal(1)).select_from(each).where(each.c.value == tag).exists()


def owners_to_choose(session: Session, dealer_id: uuid.UUID) -> list[Member]:
    """The dealer's members who may own a customer: those not removed."""
    return list(
        session.scalars(
            select(Member)
            .where(Member.organisation_id == dealer_id, Member.removed_at.is_(None))
            .order_by(Member.name, Member.id)
        )
    )


def add_customer_as(
    session: Session,
    reader: Reader,
    *,
    name: str,
    mobile: str,
    tags: Iterable[str] = (),
    owner_member_id: uuid.UUID | None = None,
) -> Customer:
    """A new customer of the reader's dealer, owned by the reader or, when an administrator
    chooses, by a colleague. A mobile the chain knows already is never a second customer:
    KnownMobile says whose it is, as far as the reader may know."""
    if reader.kind != "dealer":
        raise NotAllowed("Only a dealer's members add customers.")
    owner_member_id = owner_member_id or reader.member_id
    if owner_member_id != reader.member_id and not reader.admin:
        raise Invalid.field("owner_member_id", "Only an administrator may choose the owner.")
    normalised = normalise_mobile(mobile)
    known = session.scalar(
        select(Customer).where(Customer.chain_id == reader.chain_id, Customer.mobile == normalised)
    )
    if known is not None:
        raise _known(session, reader, known)
    try:
        customer, new = add_customer(
            session,
            chain_id=reader.chain_id,
            name=name,
            mobile=normalised,
            dealer_id=reader.organisation_id,
            owner_member_id=owner_member_id,
            tags=tags,
        )
    except Conflict as error:  # added by someone else since we looked
        if error.code != "customer_exists":
            raise
        customer, new = session.get(Customer, uuid.UUID(error.details["customer_id"])), False
    if not new:
        raise _known(session, reader, customer)
    return customer


def _known(session: Session, reader: Reader, customer: Customer) -> KnownMobile:
    visible = session.scalar(
        select(Customer.id).where(Customer.id == customer.id, customers_visible(reader))
    )
    return KnownMobile(
        customer if visible else None, same_dealer=customer.dealer_id == reader.organisation_id
    )


def may_change_owner(reader: Reader, customer: Customer) -> bool:
    """The customer's dealer's administrators, and the customer's owner."""
    if reader.whole_dealer and customer.dealer_id == reader.organisation_id:
        return True
    return customer.owner_member_id == reader.member_id


def change_owner_as(
    session: Session, reader: Reader, customer_id: uuid.UUID, to_member_id: uuid.UUID
) -> Customer:
    customer = get_visible(session, reader, Customer, customer_id)
    if not may_change_owner(reader, customer):
        raise NotAllowed("Only an administrator or the customer's owner may change the owner.")
    return hand_over_customer(
        session,
        chain_id=reader.chain_id,
        customer_id=customer.id,
        to_member_id=to_member_id,
        actor=f"member:{reader.member_id}",
    )


@dataclass(frozen=True)
class CustomerPage:
    customer: Customer
    mobile: str  # whole or masked, as the reader may see it
    owner: Member
    orders: list[Order]
    group: DeliveryGroup | None  # when there is one and the reader may open it
    owners: list[Member]  # whom the reader may hand the customer to; empty if they may not


# A customer's page lists this many of their orders, newest first.
ORDERS_SHOWN = 100


def customer_page(session: Session, reader: Reader, customer_id: uuid.UUID) -> CustomerPage:
    customer = get_visible(session, reader, Customer, customer_id)
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer.id, orders_visible(reader))
        .order_by(Order.id.desc())
        .limit(ORDERS_SHOWN)
    ).all()
    group = session.scalar(
        select(DeliveryGroup).where(
            DeliveryGroup.customer_id == customer.id, groups_visible(reader)
        )
    )
    owners = (
        owners_to_choose(session, customer.dealer_id) if may_change_owner(reader, customer) else []
    )
    return CustomerPage(
        customer=customer,
        mobile=shown_mobile(customer, reader.organisation_id),
        owner=session.get(Member, customer.owner_member_id),
        orders=list(orders),
        group=group,
        owners=owners,
    )


def visible_customer(session: Session, reader: Reader, customer_id: uuid.UUID) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.id == customer_id, customers_visible(reader))
    )


def shown_mobiles(reader: Reader, customers: Iterable[Customer]) -> dict[uuid.UUID, str]:
    return {c.id: shown_mobile(c, reader.organisation_id) for c in customers}


def owner_names(session: Session, customers: Iterable[Customer]) -> dict[uuid.UUID, str]:
    ids = {c.owner_member_id for c in customers}
    if not ids:
        return {}
    return dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
