"""What needs a member's attention, most urgent first, within what they may see
(service.portal.access): customers waiting for an answer, work items late or about to be,
today's and tomorrow's installations, and flagged messages.

Every section is a few indexed queries whatever the dealer's size: a list capped at `CAP` and
its total counted apart, and `attention_count` (the navigation's badge, on every page) is a
single statement of four counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Uuid, case, func, literal, select
from sqlalchemy.orm import Session

from service.chain.chains import get_chain
from service.customers.models import Customer
from service.groups.models import DeliveryGroup, GroupRead, Message
from service.orders.lateness import due, is_late
from service.orders.models import Order, WorkItem
from service.portal.access import Reader, groups_visible, orders_visible
from service.progress.milestones import RANK

CAP = 50
FLAGGED_FOR = timedelta(days=7)
NO_MESSAGE = uuid.UUID(int=0)  # before every message id
NOT_INSTALLED = tuple(m for m in RANK if RANK[m] < RANK["installed"])


@dataclass(frozen=True)
class Waiting:
    """A group with customer messages the reader has not read, since the oldest of them."""

    group_id: uuid.UUID
    name: str
    count: int
    since: datetime


@dataclass(frozen=True)
class DueItem:
    item_id: uuid.UUID
    description: str
    quantity: int
    milestone: str
    eta: datetime | None
    promise: datetime | None
    late: bool  # False: not yet, but within service.orders.lateness.SOON
    order_id: uuid.UUID
    reference: str
    customer: str


@dataclass(frozen=True)
class Installation:
    order_id: uuid.UUID
    reference: str
    customer: str
    milestone: str
    at: datetime
    tomorrow: bool  # else today, in the chain's time zone


@dataclass(frozen=True)
class FlaggedMessage:
    message_id: uuid.UUID
    group_id: uuid.UUID
    group: str
    sender: str  # member, customer or system
    text: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Section:
    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class Attention:
    waiting: Section
    due: Section
    installations: Section
    flagged: Section
    now: datetime

    @property
    def total(self) -> int:
        return sum(s.total for s in (self.waiting, self.due, self.installations, self.flagged))


@dataclass(frozen=True)
class _Days:
    """Today and tomorrow in the chain's time zone, as UTC bounds."""

    start: datetime
    tomorrow: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, timezone: ZoneInfo) -> _Days:
        today = now.astimezone(timezone).date()

        def midnight(days: int) -> datetime:
            # Midnight is built on the date, not by adding hours: a day of a clock change
            # is 23 or 25 hours long.
            return datetime.combine(today + timedelta(days=days), time(0), tzinfo=timezone)

        return cls(midnight(0), midnight(1), midnight(2))


def _timezone(session: Session, reader: Reader) -> ZoneInfo:
    return ZoneInfo(get_chain(session, reader.chain_id).timezone)


# The groups with customer messages after the reader's mark, by the customer's latest message
# kept on the group; and the first of them, which is the customer's first message when the
# reader has no mark (most groups, for an administrator), and else one probe of
# ix_messages_group_sender for each group with something new since the mark.


def _after_mark():
    """The messages after the reader's mark (all of them without one), as a range the index
    can start from: `mark IS NULL OR id > mark` would make it walk the read ones too."""
    return Message.id > func.coalesce(GroupRead.message_id, literal(NO_MESSAGE, Uuid()))


def _waiting(reader: Reader, mine: bool):
    read = (GroupRead.group_id == DeliveryGroup.id) & (GroupRead.member_id == reader.member_id)
    first_after_mark = (
        select(Message.id)
        .where(Message.group_id == DeliveryGroup.id, Message.sender == "customer", _after_mark())
        .order_by(Message.id)
        .limit(1)
        .correlate(DeliveryGroup, GroupRead)
        .scalar_subquery()
    )
    first_unread = case(
        (GroupRead.message_id.is_(None), DeliveryGroup.first_customer_message_id),
        else_=first_after_mark,
    )
    return (
        select(
            DeliveryGroup.id.label("group_id"),
            DeliveryGroup.name.label("name"),
            first_unread.label("first_id"),
        )
        .outerjoin(GroupRead, read)
        .where(
            groups_visible(reader, mine=mine),
            DeliveryGroup.last_customer_message_id
            > func.coalesce(GroupRead.message_id, literal(NO_MESSAGE, Uuid())),
        )
        .subquery()
    )


def _due(reader: Reader, now: datetime, mine: bool, *, names: bool = True) -> Select:
    """`names`: with the order's reference and the customer's name, which a count does without
    (every order has its customer: the join would change no count, only its cost)."""
    stmt = (
        select(WorkItem, Order.reference)
        .join(Order, Order.id == WorkItem.order_id)
        .where(WorkItem.chain_id == reader.chain_id, due(now), orders_visible(reader, mine=mine))
    )
    if names:
        stmt = stmt.add_columns(Customer.name).join(Customer, Customer.id == Order.customer_id)
    return stmt


def _installations(reader: Reader, days: _Days, mine: bool) -> Select:
    return (
        select(Order, Customer.name)
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.chain_id == reader.chain_id,
            Order.installation_at >= days.start,
            Order.installation_at < days.end,
            Order.milestone.in_(NOT_INSTALLED),
            orders_visible(reader, mine=mine),
        )
    )


def _flagged(reader: Reader, now: datetime, mine: bool) -> Select:
    return (
        select(Message, DeliveryGroup.name)
        .join(DeliveryGroup, DeliveryGroup.id == Message.group_id)
        .where(
            Message.chain_id == reader.chain_id,
            # The bare column, not `== True`: it is what ix_messages_flagged is built on.
            Message.flagged,
            Message.created_at >= now - FLAGGED_FOR,
            groups_visible(reader, mine=mine),
        )
    )


def _count(stmt: Select):
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


def _counts(
    session: Session, reader: Reader, now: datetime, days: _Days, mine: bool
) -> tuple[int, int, int, int]:
    row = session.execute(
        select(
            _count(select(_waiting(reader, mine))),
            _count(_due(reader, now, mine, names=False).with_only_columns(WorkItem.id)),
            _count(_installations(reader, days, mine).with_only_columns(Order.id)),
            _count(_flagged(reader, now, mine).with_only_columns(Message.id)),
        )
    ).one()
    return tuple(row)


def attention_count(session: Session, reader: Reader, now: datetime, *, mine: bool = False) -> int:
    """How many things need the reader's attention: the navigation's badge."""
    days = _Days.around(now, _timezone(session, reader))
    return sum(_counts(session, reader, now, days, mine))


def attention(session: Session, reader: Reader, now: datetime, *, mine: bool = False) -> Attention:
    """Everything that needs the reader's attention, each section at most `CAP` long with its
    total. `mine`: only their own customers and groups (an administrator's choice)."""
    days = _Days.around(now, _timezone(session, reader))
    waiting, due_total, installations, flagged = _counts(session, reader, now, days, mine)
    return Attention(
        waiting=Section(_waiting_rows(session, reader, mine), waiting),
        due=Section(_due_rows(session, reader, now, mine), due_total),
        installations=Section(_installation_rows(session, reader, days, mine), installations),
        flagged=Section(_flagged_rows(session, reader, now, mine), flagged),
        now=now,
    )


def _waiting_rows(session: Session, reader: Reader, mine: bool) -> list[Waiting]:
    """Those waiting longest first."""
    groups = _waiting(reader, mine)
    # Message ids are time-ordered (UUIDv7): the oldest first message is the smallest id, so
    # only the CAP shown are read from the messages' table, not one row per waiting group.
    rows = session.execute(
        select(groups.c.group_id, groups.c.name, groups.c.first_id)
        .order_by(groups.c.first_id)
        .limit(CAP)
    ).all()
    since = dict(
        session.execute(
            select(Message.id, Message.created_at).where(
                Message.id.in_([first_id for _, _, first_id in rows])
            )
        ).all()
    )
    counts = _unread_counts(session, reader, [group_id for group_id, _, _ in rows])
    return [
        Waiting(group_id, name, counts[group_id], since[first_id])
        for group_id, name, first_id in rows
    ]


def _unread_counts(
    session: Session, reader: Reader, group_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many unread customer messages each of these (few) groups has."""
    if not group_ids:
        return {}
    read = (GroupRead.group_id == Message.group_id) & (GroupRead.member_id == reader.member_id)
    return dict(
        session.execute(
            select(Message.group_id, func.count())
            .outerjoin(GroupRead, read)
            .where(Message.group_id.in_(group_ids), Message.sender == "customer", _after_mark())
            .group_by(Message.group_id)
        ).all()
    )


def _due_rows(session: Session, reader: Reader, now: datetime, mine: bool) -> list[DueItem]:
    """The most overdue first, then those due soonest, by the earlier of their two dates."""
    eta, promise = WorkItem.eta, WorkItem.promised_at
    earlier = case(
        (eta.is_(None), promise), (promise.is_(None) | (eta < promise), eta), else_=promise
    )
    stmt = _due(reader, now, mine).order_by(earlier, WorkItem.id).limit(CAP)
    rows = session.execute(stmt).all()
    return [
        DueItem(
            item_id=item.id,
            description=item.description,
            quantity=item.quantity,
            milestone=item.milestone,
            eta=item.eta,
            promise=item.promised_at,
            late=is_late(item, now),
            order_id=item.order_id,
            reference=reference,
            customer=customer,
        )
        for item, reference, customer in rows
    ]


def _installation_rows(
    session: Session, reader: Reader, days: _Days, mine: bool
) -> list[Installation]:
    stmt = _installations(reader, days, mine).order_by(Order.installation_at, Order.id)
    return [
        Installation(
            order_id=order.id,
            reference=order.reference,
            customer=customer,
            milestone=order.milestone,
            at=order.installation_at,
            tomorrow=order.installation_at >= days.tomorrow,
        )
        for order, customer in session.execute(stmt.limit(CAP)).all()
    ]


def _flagged_rows(
    session: Session, reader: Reader, now: datetime, mine: bool
) -> list[FlaggedMessage]:
    """Newest first."""
    stmt = _flagged(reader, now, mine).order_by(Message.created_at.desc(), Message.id.desc())
    return [
        FlaggedMessage(
            message_id=message.id,
            group_id=message.group_id,
            group=group,
            sender=message.sender,
            text=message.text,
            reason=message.flag_reason,
            created_at=message.created_at,
        )
        for message, group in session.execute(stmt.limit(CAP)).all()
    ]
