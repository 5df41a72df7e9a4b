"""Orders: placed for a customer by their dealer, split into work items per factory. The
customer's first order opens their delivery group, in the same transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.chain.models import Organisation, OrganisationKind
from service.chain.organisations import get_organisation
from service.customers.models import Customer
from service.db import as_utc, get_in_chain, utcnow
from service.errors import Conflict, FieldErrors, Invalid
from service.groups.groups import ensure_delivery_group
from service.groups.models import DeliveryGroup
from service.orders.dates import plausible_date
from service.orders.models import Order, WorkItem
from service.pagination import Page, decode_cursor, paginate
from service.progress.milestones import FIRST, RANK
from service.progress.models import TimelineEntry

MAX_ITEMS = 200


@dataclass(frozen=True)
class ItemRequest:
    factory_id: uuid.UUID
    description: str
    quantity: int
    factory_reference: str | None = None
    promised_at: datetime | None = None  # this item's own promise (else the order's)


def _request_hash(customer_id, dealer_id, items: list[ItemRequest], promised_at=None) -> str:
    def item(i: ItemRequest) -> list:
        fields = [str(i.factory_id), i.description.strip(), i.quantity, i.factory_reference]
        # Only when given: the hashes of orders placed before promises existed still match.
        return [*fields, _instant(i.promised_at)] if i.promised_at else fields

    canonical = {
        "customer_id": str(customer_id),
        "dealer_id": str(dealer_id),
        "items": [item(i) for i in items],
    }
    if promised_at is not None:
        canonical["promised_at"] = _instant(promised_at)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _instant(moment: datetime) -> str:
    at = as_utc(moment) if moment.tzinfo else None
    return at.isoformat() if at else repr(moment)


def _by_reference(session: Session, chain_id: uuid.UUID, reference: str) -> Order | None:
    return session.scalar(
        select(Order).where(Order.chain_id == chain_id, Order.reference == reference)
    )


def place_order(
    session: Session,
    *,
    chain_id: uuid.UUID,
    customer_id: uuid.UUID,
    dealer_id: uuid.UUID,
    reference: str,
    items: list[ItemRequest],
    promised_at: datetime | None = None,
    actor: str = "api",
    public_url: str | None = None,
) -> tuple[Order, DeliveryGroup, bool]:
    """The order, the customer's delivery group, and whether the order is new. Placing the
    same reference again with the same content returns the first order; with other
    content it is a conflict. `promised_at`: the date promised for the whole order (an item
    may have its own). `public_url`: the base of the customer's link, should the welcome of
    a new group carry it."""
    reference = reference.strip()
    if not reference:
        raise Invalid.field("reference", "Must not be blank.")
    request_hash = _request_hash(customer_id, dealer_id, items, promised_at)
    existing = _by_reference(session, chain_id, reference)
    if existing is not None:
        return _repeat(session, existing, request_hash)
    errors = FieldErrors()
    try:
        customer = get_in_chain(session, Customer, chain_id, customer_id, field="customer_id")
    except Invalid as error:
        errors.absorb(error)
    else:
        if customer.dealer_id != dealer_id:
            errors.add("dealer_id", "The customer is served by another dealer.")
    _check_items(session, chain_id, items, errors)
    now = utcnow()
    promises = _check_promises(promised_at, items, now, errors)
    errors.raise_any()

    order = Order(
        chain_id=chain_id,
        customer_id=customer.id,
        dealer_id=dealer_id,
        reference=reference,
        request_hash=request_hash,
        milestone=FIRST,
        created_at=now,
        updated_at=now,
        promised_at=promises[None],
        items=[],
    )
    try:
        with session.begin_nested():
            session.add(order)
    except IntegrityError:
        # Another request placed this reference between our check and our insert.
        return _repeat(session, _by_reference(session, chain_id, reference), request_hash)
    # Appended to the collection, so that order.items is already loaded for the caller.
    for position, item in enumerate(items, start=1):
        order.items.append(
            WorkItem(
                chain_id=chain_id,
                order_id=order.id,
                factory_id=item.factory_id,
                position=position,
                description=item.description.strip(),
                quantity=item.quantity,
                factory_reference=item.factory_reference,
                milestone=FIRST,
                milestone_at=now,
                promised_at=promises[position] or promises[None],
                promise_own=promises[position] is not None,
            )
        )
    session.add(
        TimelineEntry(
            chain_id=chain_id, order_id=order.id, milestone=FIRST, actor=actor, occurred_at=now
        )
    )
    session.flush()  # the items' ids, for their promises' entries
    for key, promise in promises.items():
        if promise is not None:
            item_id = None if key is None else order.items[key - 1].id
            session.add(
                TimelineEntry(
                    chain_id=chain_id, order_id=order.id, work_item_id=item_id,
                    kind="promise", milestone=FIRST, actor=actor, occurred_at=now,
                    promised_at=promise,
                )
            )  # fmt: skip
    group, _ = ensure_delivery_group(session, customer, public_url=public_url)
    session.flush()
    return order, group, True


def _check_promises(
    promised_at: datetime | None, items: list[ItemRequest], now: datetime, errors: FieldErrors
) -> dict[int | None, datetime | None]:
    """The promises in UTC: the order's under None, each item's under its position."""
    wanted = {None: promised_at} | {n: i.promised_at for n, i in enumerate(items, start=1)}
    promises: dict[int | None, datetime | None] = {}
    for key, moment in wanted.items():
        promises[key] = None
        if moment is None:
            continue
        field = "promised_at" if key is None else f"items[{key - 1}].promised_at"
        try:
            promises[key] = plausible_date(moment, placed_at=now, now=now, field=field)
        except Invalid as error:
            errors.absorb(error)
    return promises


def _repeat(session: Session, order: Order, request_hash: str) -> tuple[Order, DeliveryGroup, bool]:
    if order.request_hash != request_hash:
        raise Conflict(
            f"Reference {order.reference!r} belongs to another order with different content.",
            details={"fields": {"reference": ["Already used."]}, "order_id": str(order.id)},
        )
    group = session.scalar(
        select(DeliveryGroup).where(DeliveryGroup.customer_id == order.customer_id)
    )
    return order, group, False


def _check_items(
    session: Session, chain_id: uuid.UUID, items: list[ItemRequest], errors: FieldErrors
) -> None:
    if not items:
        return errors.add("items", "An order needs at least one item.")
    if len(items) > MAX_ITEMS:
        return errors.add("items", f"At most {MAX_ITEMS} items.")
    factories = set(
        session.scalars(
            select(Organisation.id).where(
                Organisation.chain_id == chain_id,
                Organisation.kind == OrganisationKind.FACTORY,
                Organisation.removed_at.is_(None),
                Organisation.id.in_({item.factory_id for item in items}),
            )
        )
    )
    taken = _references_in_use(
        session,
        {(i.factory_id, i.factory_reference) for i in items if i.factory_reference is not None},
    )
    seen_references = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if item.factory_id not in factories:
            errors.add(f"{where}.factory_id", "No such factory in this chain.")
        if not item.description.strip():
            errors.add(f"{where}.description", "Must not be blank.")
        if item.quantity < 1:
            errors.add(f"{where}.quantity", "Must be at least 1.")
        if item.factory_reference is not None:
            key = (item.factory_id, item.factory_reference)
            if key in seen_references or key in taken:
                errors.add(f"{where}.factory_reference", "The factory already uses this reference.")
            seen_references.add(key)


def _references_in_use(
    session: Session, references: set[tuple[uuid.UUID, str]]
) -> set[tuple[uuid.UUID, str]]:
    """Which of these (factory, factory's reference) pairs name a work item already: one
    query for the whole order, not one per item."""
    if not references:
        return set()
    # OR of pairs rather than a row-value IN: SQLite scans the whole table for the latter.
    rows = session.execute(
        select(WorkItem.factory_id, WorkItem.factory_reference).where(
            or_(
                *(
                    and_(WorkItem.factory_id == factory_id, WorkItem.factory_reference == ref)
                    for factory_id, ref in references
                )
            )
        )
    )
    return {(factory_id, reference) for factory_id, reference in rows}


def list_orders(
    session: Session,
    *,
    chain_id: uuid.UUID,
    dealer_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    factory_id: uuid.UUID | None = None,
    milestone: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Newest first. Each filter rides an index that ends in the order id, so a page is
    one range scan however many orders there are."""
    stmt = select(Order).where(Order.chain_id == chain_id)
    # A filter naming something outside the chain is a bad request, as everywhere else.
    if dealer_id:
        get_organisation(session, chain_id, dealer_id, field="dealer_id")
        stmt = stmt.where(Order.dealer_id == dealer_id)
    if customer_id:
        get_in_chain(session, Customer, chain_id, customer_id, field="customer_id")
        stmt = stmt.where(Order.customer_id == customer_id)
    if milestone:
        if milestone not in RANK:
            raise Invalid.field("milestone", "Unknown milestone.")
        stmt = stmt.where(Order.milestone == milestone)
    if factory_id:
        get_organisation(session, chain_id, factory_id, field="factory_id")
        has_item = exists().where(
            WorkItem.order_id == Order.id,
            WorkItem.factory_id == factory_id,
            WorkItem.chain_id == chain_id,
        )
        if cursor:
            # Implied by the page's own `Order.id < cursor`, but PostgreSQL does not carry an
            # inequality across a join: without it, a merge join reads the factory's work
            # items from the newest down to the cursor, and deep pages slow down with depth.
            has_item = has_item.where(WorkItem.order_id < decode_cursor(cursor))
        stmt = stmt.where(has_item)
    return paginate(session, stmt, Order.id, cursor=cursor, limit=limit, newest_first=True)


def timeline(session: Session, order_id: uuid.UUID) -> list[TimelineEntry]:
    return list(
        session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.order_id == order_id)
            .order_by(TimelineEntry.id)
        )
    )


def set_installation(
    session: Session,
    *,
    chain_id: uuid.UUID,
    order_id: uuid.UUID,
    installation_at: datetime | None,
    now: datetime | None = None,
) -> Order:
    """Book the order's installation for `installation_at` (None: no appointment). The moment
    must fall after the order was placed and within two years from now."""
    order = get_in_chain(session, Order, chain_id, order_id)
    if installation_at is not None:
        installation_at = plausible_date(
            installation_at, placed_at=order.created_at, now=now or utcnow(),
            field="installation_at",
        )  # fmt: skip
    order.installation_at = installation_at
    session.flush()
    return order
