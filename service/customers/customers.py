"""Customers: unique per chain by mobile, served by one dealer and one owner member."""

from __future__ import annotations

import unicodedata
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
from service.db import get_in_chain
from service.errors import Conflict, Invalid
from service.pagination import Page, paginate
from service.tags import clean_tags


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
    """The customer, and whether they are new. A mobile the chain already knows is that
    customer when the dealer, owner and name match too; otherwise it is a conflict, for the
    brand to change or hand over the customer, never a second one."""
    mobile = normalise_mobile(mobile)
    name = name.strip()
    if not name:
        raise Invalid.field("name", "Must not be blank.")
    dealer_and_owner(session, chain_id, dealer_id, owner_member_id)
    asked = _identity(dealer_id, owner_member_id, name)
    existing = _by_mobile(session, chain_id, mobile)
    if existing is not None:
        return _the_same(existing, asked), False
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
        return _the_same(_by_mobile(session, chain_id, mobile), asked), False
    return customer, True


def _identity(dealer_id: uuid.UUID, owner_member_id: uuid.UUID, name: str) -> dict:
    """What must match for a known mobile to be the customer asked for. Names compare after
    trimming and Unicode NFC (the same letters, composed or not); case and inner spacing
    count, so that a doubt is a conflict for the brand to settle, never a guess."""
    return {
        "dealer_id": dealer_id,
        "owner_member_id": owner_member_id,
        "name": unicodedata.normalize("NFC", name.strip()),
    }


def _the_same(existing: Customer, asked: dict) -> Customer:
    """`existing` if it is the customer asked for; else a conflict naming what differs."""
    known = _identity(existing.dealer_id, existing.owner_member_id, existing.name)
    differs = [field for field, value in asked.items() if known[field] != value]
    if differs:
        raise Conflict(
            "The chain has a customer with this mobile, with another "
            + ", ".join(differs)
            + ": change that customer, or hand them over, instead.",
            code="customer_exists",
            details={"customer_id": str(existing.id), "differs": differs},
        )
    return existing


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
    customer = get_in_chain(session, Customer, chain_id, customer_id)
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
