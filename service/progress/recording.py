"""Progress: work items reach milestones. The brand API reports one step at a time, factories'
signed webhooks one or a batch; both go through the same three steps inside their one
transaction:

    lock_work_items   lock the orders concerned and their items, in order id order, and
                      read them as they are under those locks (one statement);
    judge             decide, in memory, what each reported step changes;
    apply             write it all: a few set-wise statements, however many steps
                      (service.progress.writing).

Set-wise and in plain SQL (not the unit of work) because this is the hottest write path:
a factory's webhook must cost little more than one INSERT.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from service.chain.models import Chain
from service.db import new_id, utcnow
from service.errors import FieldErrors, Invalid
from service.groups.messages import MAX_TEXT
from service.groups.models import DeliveryGroup, Message
from service.orders.models import Order, WorkItem
from service.progress.dates import implausible
from service.progress.milestones import RANK, WITH_THE_CUSTOMER, order_milestone
from service.progress.writing import apply
from service.system_texts import milestone_name, say


@dataclass(frozen=True)
class Report:
    """One reported step: `work_item_id` reached `milestone`."""

    work_item_id: uuid.UUID
    milestone: str
    occurred_at: datetime | None = None
    note: str = ""
    eta: datetime | None = None


@dataclass(frozen=True)
class Step:
    """What one report changed."""

    work_item_id: uuid.UUID
    milestone: str
    moved: bool  # False for a late or repeated report: recorded, nothing else changes
    order_milestone_changed: bool
    notification_id: uuid.UUID | None


@dataclass(frozen=True)
class LockedItem:
    id: uuid.UUID
    order_id: uuid.UUID
    factory_id: uuid.UUID
    factory_reference: str | None
    description: str
    milestone: str
    milestone_at: datetime
    promised_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class LockedOrder:
    id: uuid.UUID
    chain_id: uuid.UUID
    dealer_id: uuid.UUID
    reference: str
    milestone: str
    group_id: uuid.UUID | None  # the customer's delivery group
    language: str  # the chain's: its notifications are written in it


@dataclass
class Locked:
    """Orders this transaction holds locked, with every one of their items (locked too)."""

    orders: dict[uuid.UUID, LockedOrder]
    items: dict[uuid.UUID, LockedItem]


@dataclass
class Plan:
    """The rows `apply` writes, and each report's step."""

    steps: list[Step] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    items: dict[uuid.UUID, dict] = field(default_factory=dict)
    orders: dict[uuid.UUID, dict] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)  # each its own outbox entry
    spans: list[dict] = field(default_factory=list)  # the stages the moves ended


@functools.cache
def _lock_orders(which: ColumnElement[bool]):
    # Every item of every order concerned, the orders and their items locked (FOR NO KEY
    # UPDATE, which leaves foreign-key checks alone), sorted so that concurrent reports
    # lock in the same order. Rows a report committed while this one waited are returned
    # as they are now: PostgreSQL re-reads a locked row that changed meanwhile.
    return (
        select(
            Order.id,
            Order.chain_id,
            Order.dealer_id,
            Order.reference,
            Order.milestone,
            DeliveryGroup.id.label("group_id"),
            Chain.language,
            WorkItem.id.label("item_id"),
            WorkItem.factory_id,
            WorkItem.factory_reference,
            WorkItem.description,
            WorkItem.milestone.label("item_milestone"),
            WorkItem.milestone_at.label("item_milestone_at"),
            WorkItem.promised_at.label("item_promised_at"),
            WorkItem.created_at.label("item_created_at"),
        )
        .join(WorkItem, WorkItem.order_id == Order.id)
        .outerjoin(DeliveryGroup, DeliveryGroup.customer_id == Order.customer_id)
        .join(Chain, Chain.id == Order.chain_id)
        .where(Order.id.in_(select(WorkItem.order_id).where(which).scalar_subquery()))
        .order_by(Order.id, WorkItem.position)
        .with_for_update(of=(Order.__table__, WorkItem.__table__), key_share=True)
    )


# Which items `record_progress` reports on: the one it is given.
_THE_ITEM = WorkItem.id == bindparam("work_item_id")


def lock_work_items(session: Session, which: ColumnElement[bool], **params) -> Locked:
    """Lock the orders of the work items matching `which` (a module-level condition, its
    bind parameters given as keywords) and every item of those orders, and read them, in
    one statement. Writers of an order's items all hold these locks; taking them in id
    order means two reports naming the same orders wait for each other instead of
    deadlocking, and what a report committed while this one waited is seen."""
    session.flush()  # the statement below bypasses the unit of work: let it see its changes
    orders, items = {}, {}
    for row in session.connection().execute(_lock_orders(which), params):
        orders.setdefault(
            row.id,
            LockedOrder(
                row.id,
                row.chain_id,
                row.dealer_id,
                row.reference,
                row.milestone,
                row.group_id,
                row.language,
            ),
        )
        items[row.item_id] = LockedItem(
            row.item_id,
            row.id,
            row.factory_id,
            row.factory_reference,
            row.description,
            row.item_milestone,
            row.item_milestone_at,
            row.item_promised_at,
            row.item_created_at,
        )
    return Locked(orders, items)


# How an error names a report's field: (the report's index, the field's name) -> the name.
FieldName = Callable[[int, str], str]


def field_of_one_report(_index: int, name: str) -> str:
    """A field's name in an error about a report sent alone: just the name (a batch's errors
    name the report too, see `judge`'s `field_name`)."""
    return name


def judge(
    locked: Locked,
    reports: list[Report],
    *,
    actor: str,
    field_name: FieldName = field_of_one_report,
) -> Plan:
    """Decide what each report changes, in the order given. Reports arrive out of order: one
    behind what is known (an earlier milestone, or the same one again) goes in the timeline
    as late and changes nothing else, so no milestone moves back and the customer hears of
    each step once. Every report's work item must be in `locked`. Reports with implausible
    dates are refused, all of them at once, each field named by `field_name(index, name)`."""
    now = utcnow()
    _check_dates(locked, reports, now, field_name)
    plan = Plan()
    milestones = {item.id: item.milestone for item in locked.items.values()}
    reached_at = {item.id: item.milestone_at for item in locked.items.values()}
    order_milestones = {order.id: order.milestone for order in locked.orders.values()}
    items_of = defaultdict(list)
    for item in locked.items.values():
        items_of[item.order_id].append(item.id)

    for report in reports:
        if report.milestone not in RANK:
            raise Invalid.field("milestone", f"Unknown milestone; one of {', '.join(RANK)}.")
        item = locked.items[report.work_item_id]
        order = locked.orders[item.order_id]
        occurred_at = report.occurred_at or now
        moved = RANK[report.milestone] > RANK[milestones[item.id]]
        plan.timeline.append(
            _entry(order, item.id, report.milestone, actor, occurred_at, report, late=not moved)
        )
        if not moved:
            plan.steps.append(Step(item.id, report.milestone, False, False, None))
            continue

        plan.spans.append(
            _span(
                order, item, milestones[item.id], reached_at[item.id], report.milestone, occurred_at
            )
        )
        milestones[item.id] = report.milestone
        reached_at[item.id] = occurred_at
        changes = plan.items.setdefault(item.id, {"_id": item.id, "_eta": None})
        changes.update(_milestone=report.milestone, _milestone_at=occurred_at)
        changes["_eta"] = report.eta or changes["_eta"]
        now_at = order_milestone([milestones[i] for i in items_of[order.id]])
        order_changed = now_at != order_milestones[order.id]
        order_milestones[order.id] = now_at
        if order_changed:
            # Only then is the order's row written (a new row version, and new entries in
            # its milestone's index): its lock, taken above, is what serialises reports.
            # So updated_at says when the order itself last changed, not its items.
            plan.orders[order.id] = {"_id": order.id, "_milestone": now_at, "_updated_at": now}
            plan.timeline.append(_entry(order, None, now_at, "system", occurred_at, None))
        notification_id = _notify(plan, order, item, report, now_at)
        plan.steps.append(Step(item.id, report.milestone, True, order_changed, notification_id))
    return plan


def _check_dates(
    locked: Locked, reports: list[Report], now: datetime, field_name: FieldName
) -> None:
    errors = FieldErrors()
    for i, report in enumerate(reports):
        for name, reason in implausible(
            occurred_at=report.occurred_at,
            eta=report.eta,
            created_at=locked.items[report.work_item_id].created_at,
            now=now,
        ).items():
            errors.add(field_name(i, name), reason)
    errors.raise_any()


def _entry(order, item_id, milestone, actor, occurred_at, report, *, late=False) -> dict:
    return {
        "id": new_id(),  # ids are time-ordered: the timeline reads in the order judged
        "chain_id": order.chain_id,
        "order_id": order.id,
        "work_item_id": item_id,
        "milestone": milestone,
        "actor": actor,
        "occurred_at": occurred_at,
        "note": report.note if report else "",
        "eta": report.eta if report else None,
        "late": late,
        # Every column, defaults too: PostgreSQL's claimed write builds rows from these alone.
        "kind": "milestone",
        "promised_at": None,
    }


def _span(
    order: LockedOrder,
    item: LockedItem,
    left: str,
    left_at: datetime,
    reached: str,
    reached_at: datetime,
) -> dict:
    # A report may say it happened before the last one did (a factory's clock, a late
    # batch): the stage then took no time, not a negative one.
    seconds = max(0, int((reached_at - left_at).total_seconds()))
    brought = RANK[left] < RANK[WITH_THE_CUSTOMER[0]] <= RANK[reached]
    return {
        "id": new_id(),
        "chain_id": order.chain_id,
        "factory_id": item.factory_id,
        "dealer_id": order.dealer_id,
        "work_item_id": item.id,
        "from_milestone": left,
        "to_milestone": reached,
        "started_at": min(left_at, reached_at),
        "ended_at": reached_at,
        "seconds": seconds,
        "promise_kept": (
            reached_at <= item.promised_at if brought and item.promised_at is not None else None
        ),
        "rolled": False,
    }


def _notify(
    plan: Plan, order: LockedOrder, item: LockedItem, report: Report, order_now_at: str
) -> uuid.UUID | None:
    if order.group_id is None:
        return None
    language = order.language
    values = {
        "reference": order.reference,
        "item": item.description,
        "milestone": milestone_name(language, report.milestone),
    }
    if report.eta is None:
        text = say(language, "Order %(reference)s: %(item)s — %(milestone)s.", **values)
    else:
        # The date the factory gave, as it gave it (its own day, before any time zone).
        values["date"] = f"{report.eta:%Y-%m-%d}"
        text = say(
            language, "Order %(reference)s: %(item)s — %(milestone)s. Expected %(date)s.", **values
        )
    if report.note:
        text += f" {report.note}"
    message_id = new_id()
    plan.messages.append(
        {
            "id": message_id,
            "chain_id": order.chain_id,
            "group_id": order.group_id,
            "sender": "system",
            "kind": "notification",
            "text": text[:MAX_TEXT],
            "payload": {
                "order_id": str(order.id),
                "order_reference": order.reference,
                "work_item_id": str(item.id),
                "milestone": report.milestone,
                "order_milestone": order_now_at,
                "eta": report.eta.isoformat() if report.eta else None,
            },
        }
    )
    return message_id


@dataclass(frozen=True)
class Progress:
    work_item: WorkItem
    moved: bool
    order_milestone_changed: bool
    notification: Message | None


def record_progress(
    session: Session,
    *,
    work_item: WorkItem,
    milestone: str,
    actor: str,
    occurred_at: datetime | None = None,
    note: str = "",
    eta: datetime | None = None,
) -> Progress:
    """Record that `work_item` reached `milestone` (see `judge` for late reports)."""
    report = Report(work_item.id, milestone, occurred_at, note, eta)
    locked = lock_work_items(session, _THE_ITEM, work_item_id=work_item.id)
    plan = judge(locked, [report], actor=actor)
    apply(session, plan)
    [step] = plan.steps
    notification = session.get(Message, step.notification_id) if step.notification_id else None
    return Progress(work_item, step.moved, step.order_milestone_changed, notification)
