"""Customers: unique per chain by mobile, served by one dealer and one owner member."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.chain.members import get_member
from service.chain.mobiles import mask_mobile, normalise_mobile
from service.chain.models import Member, Organisation, OrganisationKind
from service.chain.organisations import get_organisation
from service.customers.models import Customer
from service.errors import Invalid, no_such
from service.pagination import Page, paginate
from service.tags import clean_tags


def get_customer(
    session: Session, chain_id: uuid.UUID, customer_id: uuid.UUID, *, field: str | None = None
) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.chain_id != chain_id:
        raise no_such("customer", field=field)
    return customer


def dealer_and_owner(
    session: Session, chain_id: uuid.UUID, dealer_id: uuid.UUID, owner_member_id: uuid.UUID
) -> tuple[Organisation, Member]:
    dealer = get_organisation(session, chain_id, dealer_id, field="dealer_id")
    if dealer.kind != OrganisationKind.DEALER:
        raise Invalid.field("dealer_id", "Not a dealer.")
    owner = get_member(session, chain_id, owner_member_id, field="owner_member_id")
    if owner.organisation_id != dealer.id:
        raise Invalid.field("owner_member_id", "Must be a member of the customer's dealer.")
    return dealer, owner


def add_customer(
    session: Session,
    *,
    chain_id: uuid.UUID,
    name: str,
    mobile: str,
    dealer_id: uuid.UUID,
    owner_member_id: uuid.UUID,
    tags: Iterable[str] = (),
    notes: str = "",
) -> tuple[Customer, bool]:
    """The customer, and whether they are new: a customer whose mobile the chain already
    knows is found, not duplicated."""
    mobile = normalise_mobile(mobile)
    existing = _by_mobile(session, chain_id, mobile)
    if existing is not None:
        return existing, False
    name = name.strip()
    if not name:
        raise Invalid.field("name", "Must not be blank.")
    dealer_and_owner(session, chain_id, dealer_id, owner_member_id)
    customer = Customer(
        chain_id=chain_id,
        name=name,
        mobile=mobile,
        dealer_id=dealer_id,
        owner_member_id=owner_member_id,
        tags=clean_tags(tags),
        notes=notes,
    )
    try:
        # A savepoint, so that losing a race to add the same mobile costs nothing else.
        with session.begin_nested():
            session.add(customer)
    except IntegrityError:
        return _by_mobile(session, chain_id, mobile), False
    return customer, True


def _by_mobile(session: Session, chain_id: uuid.UUID, mobile: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.chain_id == chain_id, Customer.mobile == mobile)
    )


def list_customers(
    session: Session,
    *,
    chain_id: uuid.UUID,
    dealer_id: uuid.UUID | None = None,
    owner_member_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    stmt = select(Customer).where(Customer.chain_id == chain_id)
    # A filter naming something outside the chain is a bad request, as everywhere else.
    if dealer_id:
        get_organisation(session, chain_id, dealer_id, field="dealer_id")
        stmt = stmt.where(Customer.dealer_id == dealer_id)
    if owner_member_id:
        get_member(session, chain_id, owner_member_id, field="owner_member_id")
        stmt = stmt.where(Customer.owner_member_id == owner_member_id)
    return paginate(session, stmt, Customer.id, cursor=cursor, limit=limit, newest_first=True)


def update_customer(
    session: Session,
    *,
    chain_id: uuid.UUID,
    customer_id: uuid.UUID,
    name: str | None = None,
    mobile: str | None = None,
    tags: Iterable[str] | None = None,
    notes: str | None = None,
) -> Customer:
    customer = get_customer(session, chain_id, customer_id)
    if name is not None:
        if not name.strip():
            raise Invalid.field("name", "Must not be blank.")
        customer.name = name.strip()
    if mobile is not None:
        mobile = normalise_mobile(mobile)
        other = _by_mobile(session, chain_id, mobile)
        if other is not None and other.id != customer.id:
            raise Invalid.field("mobile", "Another customer of the chain has this mobile.")
        customer.mobile = mobile
    if tags is not None:
        customer.tags = clean_tags(tags)
    if notes is not None:
        customer.notes = notes
    session.flush()
    return customer


def shown_mobile(customer: Customer, viewer_organisation_id: uuid.UUID | None) -> str:
    """Whole for the brand's API (None) and the customer's own dealer; masked elsewhere."""
    if viewer_organisation_id in (None, customer.dealer_id):
        return customer.mobile
    return mask_mobile(customer.mobile)
