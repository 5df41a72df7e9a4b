"""The customer's private link: made by the customer's owner (portal) or the brand (API),
expiring (90 days unless said otherwise), revocable, shown once. It opens that one
customer's view and nothing else: the token is the only thing the link page is given, and
only its SHA-256 is kept, so a copy of the database opens nothing."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.customers.models import Customer, CustomerLink
from service.db import get_in_chain, utcnow
from service.errors import Invalid, NotFound
from service.groups.models import DeliveryGroup
from service.notify.outbox import wake_group_pages
from service.tokens import secret_hash

DEFAULT_DAYS = 90
# Where the link page is mounted: the domain writes the link into welcome messages.
PATH_PREFIX = "/c"
MAX_DAYS = 365
# Links are opened on every page view: written at most this often, not on each one.
_OPENED_EVERY = timedelta(minutes=5)


def create_link(
    session: Session,
    *,
    chain_id: uuid.UUID,
    customer_id: uuid.UUID,
    days: int = DEFAULT_DAYS,
    created_by_member_id: uuid.UUID | None = None,
) -> tuple[CustomerLink, str]:
    """A new link to the customer's view and its token, returned once (the path is
    `/c/<token>`)."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid.field("days", f"Must be between 1 and {MAX_DAYS}.")
    get_in_chain(session, Customer, chain_id, customer_id)
    token = secrets.token_urlsafe(24)
    now = utcnow()
    link = CustomerLink(
        chain_id=chain_id,
        customer_id=customer_id,
        token_hash=secret_hash(token),
        created_by_member_id=created_by_member_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    return link, token


def link_url(base_url: str | None, token: str) -> str:
    """The link's URL; without a base (no public URL configured), its path alone."""
    return f"{(base_url or '').rstrip('/')}{PATH_PREFIX}/{token}"


def list_links(session: Session, *, chain_id: uuid.UUID, customer_id: uuid.UUID) -> list:
    """The customer's links, newest first (their tokens are not kept: only their state)."""
    get_in_chain(session, Customer, chain_id, customer_id)
    return list(
        session.scalars(
            select(CustomerLink)
            .where(CustomerLink.chain_id == chain_id, CustomerLink.customer_id == customer_id)
            .order_by(CustomerLink.id.desc())
        )
    )


def revoke_link(
    session: Session,
    *,
    chain_id: uuid.UUID,
    link_id: uuid.UUID,
    customer_id: uuid.UUID | None = None,
) -> CustomerLink:
    """Revoke a link (again: no change); from then on it shows that it was withdrawn.
    `customer_id`, when given, must be the link's customer."""
    link = session.get(CustomerLink, link_id)
    if (
        link is None
        or link.chain_id != chain_id
        or (customer_id is not None and link.customer_id != customer_id)
    ):
        raise NotFound("No such customer link.")
    customer_id = link.customer_id
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()
        # The customer's open page stops at once: its stream wakes, finds the link revoked
        # and ends.
        group_id = session.scalar(
            select(DeliveryGroup.id).where(DeliveryGroup.customer_id == customer_id)
        )
        if group_id is not None:
            wake_group_pages(session, group_id)
    return link


def link_state(link: CustomerLink, now: datetime | None = None) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


@dataclass(frozen=True)
class Opened:
    """What a token opened: its link's state, and the customer when the link is active."""

    state: str  # active, revoked, expired, unknown
    customer: Customer | None = None


def open_link(
    session: Session, token: str, *, now: datetime | None = None, touch: bool = True
) -> Opened:
    """The customer a token opens, if its link is active. `touch`: note when it was opened
    (a page view); an open stream asking again whether it still may is not a view."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return Opened("unknown")
    link = session.scalar(select(CustomerLink).where(CustomerLink.token_hash == secret_hash(token)))
    if link is None:
        return Opened("unknown")
    state = link_state(link, now)
    if state != "active":
        return Opened(state)
    if touch and (link.last_opened_at is None or now - link.last_opened_at > _OPENED_EVERY):
        link.last_opened_at = now
        session.flush()
    return Opened(state, session.get(Customer, link.customer_id))
