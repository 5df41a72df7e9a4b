"""Broadcasts: one message from the brand to the delivery groups of many customers (by tag,
by dealer, or all), each customer receiving at most the chain's quota of them a month."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.broadcasts.models import Broadcast, BroadcastRecipient
from service.chain.models import Chain, Organisation, OrganisationKind
from service.customers.models import Customer
from service.db import new_id, utcnow
from service.errors import Invalid, no_such
from service.groups.messages import MAX_TEXT, post_system_message
from service.groups.models import DeliveryGroup
from service.pagination import Page, paginate
from service.tags import MAX_TAG_LENGTH

# Groups are loaded this many ids at a time: well under every backend's bound-parameter limit.
BATCH = 1000


def send_broadcast(
    session: Session,
    *,
    chain_id: uuid.UUID,
    text: str,
    tag: str | None = None,
    dealer_id: uuid.UUID | None = None,
    all: bool = False,
    now: datetime | None = None,
) -> Broadcast:
    """Post `text` into the group of every customer in the audience (exactly one of `tag`,
    `dealer_id`, `all`) who is under this month's quota; record the others as skipped.
    Customers without a group yet (no order) are not in any audience."""
    text = _checked_text(text)
    audience = _checked_audience(session, chain_id, tag=tag, dealer_id=dealer_id, everyone=all)
    # The chain's row, locked (FOR NO KEY UPDATE, which still lets other transactions insert
    # rows referring to the chain): two broadcasts at once would otherwise both count a
    # customer under quota and both send. SQLite serialises writers anyway.
    chain = session.get(Chain, chain_id, with_for_update={"key_share": True})
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(chain.timezone))
    month = f"{local.year:04d}-{local.month:02d}"
    quota = chain.broadcast_quota
    if quota is None:
        quota = calendar.monthrange(local.year, local.month)[1]

    targets = _targets(session, chain_id, audience)
    received = _received_in_month(session, chain_id, audience, month)
    sending = [
        group_id for customer_id, group_id in targets if received.get(customer_id, 0) < quota
    ]

    broadcast = Broadcast(
        id=new_id(), chain_id=chain_id, text=text, audience=audience, created_at=now
    )
    session.add(broadcast)
    messages: dict[uuid.UUID, uuid.UUID] = {}
    for group in _groups(session, sending):
        messages[group.id] = post_system_message(
            session,
            group=group,
            kind="broadcast",
            text=text,
            payload={"broadcast_id": str(broadcast.id)},
        ).id
    session.add_all(
        BroadcastRecipient(
            chain_id=chain_id,
            broadcast_id=broadcast.id,
            customer_id=customer_id,
            group_id=group_id,
            month=month,
            message_id=messages.get(group_id),
        )
        for customer_id, group_id in targets
    )
    broadcast.sent = len(messages)
    broadcast.skipped_by_quota = len(targets) - len(messages)
    session.flush()
    return broadcast


def _checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid.field("text", "Must not be blank.")
    if len(text) > MAX_TEXT:
        raise Invalid.field("text", f"At most {MAX_TEXT} characters.")
    return text


def _checked_audience(
    session: Session,
    chain_id: uuid.UUID,
    *,
    tag: str | None,
    dealer_id: uuid.UUID | None,
    everyone: bool,
) -> dict:
    """{"tag": …} | {"dealer_id": …} | {"all": True}, as stored on the broadcast."""
    given = [
        name
        for name, value in (("tag", tag), ("dealer_id", dealer_id), ("all", everyone or None))
        if value is not None
    ]
    if not given:
        raise Invalid.field("audience", "Give one of tag, dealer_id or all (true).")
    if len(given) > 1:
        reason = "Give only one of tag, dealer_id and all."
        raise Invalid(reason, details={"fields": {name: [reason] for name in given}})
    if tag is not None:
        tag = tag.strip()
        if not tag:
            raise Invalid.field("tag", "Must not be blank.")
        if len(tag) > MAX_TAG_LENGTH:
            raise Invalid.field("tag", f"At most {MAX_TAG_LENGTH} characters.")
        return {"tag": tag}
    if dealer_id is not None:
        found = session.scalar(
            select(Organisation.id).where(
                Organisation.id == dealer_id,
                Organisation.chain_id == chain_id,
                Organisation.kind == OrganisationKind.DEALER,
                Organisation.removed_at.is_(None),
            )
        )
        if found is None:
            raise no_such("dealer", field="dealer_id")
        return {"dealer_id": str(dealer_id)}
    return {"all": True}


def _audience_groups(chain_id: uuid.UUID, audience: dict):
    """The audience's groups as SQL can select them: the dealer's or the chain's (a tag
    narrows them further, in Python)."""
    where = [DeliveryGroup.chain_id == chain_id]
    if "dealer_id" in audience:
        where.append(DeliveryGroup.dealer_id == uuid.UUID(audience["dealer_id"]))
    return where


def _targets(
    session: Session, chain_id: uuid.UUID, audience: dict
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(customer id, group id) of every customer in the audience who has a group, oldest
    group first."""
    where = _audience_groups(chain_id, audience)
    if "tag" not in audience:
        stmt = select(DeliveryGroup.customer_id, DeliveryGroup.id).where(*where)
        return [tuple(row) for row in session.execute(stmt.order_by(DeliveryGroup.id))]
    # customers.tags is a JSON list, which the backends query each their own way; the chain's
    # customers (two small columns each) are filtered here instead. A tag table (customer_id,
    # tag), indexed on (chain_id, tag), would let the database pick them.
    stmt = (
        select(Customer.id, Customer.tags, DeliveryGroup.id)
        .join(DeliveryGroup, DeliveryGroup.customer_id == Customer.id)
        .where(*where)
        .order_by(DeliveryGroup.id)
    )
    return [
        (customer_id, group_id)
        for customer_id, tags, group_id in session.execute(stmt)
        if audience["tag"] in (tags or ())
    ]


def _received_in_month(
    session: Session, chain_id: uuid.UUID, audience: dict, month: str
) -> dict[uuid.UUID, int]:
    """Broadcasts each customer of the audience has received in `month` (skips not counted),
    in one grouped query. The audience is given to SQL as a subquery of its groups' customers
    (for a tag, the chain's: a superset), so no list of ids has to be sent."""
    customers = select(DeliveryGroup.customer_id).where(*_audience_groups(chain_id, audience))
    stmt = (
        select(BroadcastRecipient.customer_id, func.count())
        .where(
            BroadcastRecipient.customer_id.in_(customers),
            BroadcastRecipient.month == month,
            BroadcastRecipient.message_id.is_not(None),
        )
        .group_by(BroadcastRecipient.customer_id)
    )
    return dict(session.execute(stmt).all())


def _groups(session: Session, ids: Sequence[uuid.UUID]) -> Iterator[DeliveryGroup]:
    """The groups with these ids, a batch at a time, in the order given."""
    it = iter(ids)
    while batch := list(islice(it, BATCH)):
        found = {
            group.id: group
            for group in session.scalars(select(DeliveryGroup).where(DeliveryGroup.id.in_(batch)))
        }
        yield from (found[group_id] for group_id in batch)


def list_broadcasts(
    session: Session, *, chain_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> Page:
    stmt = select(Broadcast).where(Broadcast.chain_id == chain_id)
    return paginate(session, stmt, Broadcast.id, cursor=cursor, limit=limit, newest_first=True)
