"""When a work item is late, or about to be: the one place the rule is written, as SQL for
the queries (the attention page, the order filter, the reports) and in Python for an item
already loaded.

An item is late against the factory's ETA when that date has passed and it is not completed;
and late against its promise (service.orders.promises) when that date has passed and it has
not reached the customer (delivered or further: the promise is for the delivery). An item with
neither date is never late: nobody gave a date for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam

from service.orders.models import WorkItem
from service.progress.milestones import BEFORE_THE_CUSTOMER, WITH_THE_CUSTOMER

LAST = "completed"
# "About to be late": its ETA or its promise falls within this much from now.
SOON = timedelta(hours=24)


def before_the_customer() -> ColumnElement[bool]:
    """Not yet with the customer; written out as ix_work_items_open_promise's condition is
    (values, not parameters), so that the planner may use that index."""
    return WorkItem.milestone.in_(
        bindparam(None, BEFORE_THE_CUSTOMER, expanding=True, literal_execute=True)
    )


def _late_eta(now: datetime) -> ColumnElement[bool]:
    return WorkItem.eta.is_not(None) & (WorkItem.eta < now) & (WorkItem.milestone != LAST)


def late_promise(now: datetime) -> ColumnElement[bool]:
    return WorkItem.promised_at.is_not(None) & (WorkItem.promised_at < now) & before_the_customer()


def late(now: datetime) -> ColumnElement[bool]:
    """Late against its ETA or its promise."""
    return _late_eta(now) | late_promise(now)


def is_late(item: WorkItem, now: datetime) -> bool:
    """The same as `late`, for an item already loaded."""
    late_eta = item.eta is not None and item.eta < now and item.milestone != LAST
    return late_eta or is_late_against_promise(item, now)


def is_late_against_promise(item: WorkItem, now: datetime) -> bool:
    return (
        item.promised_at is not None
        and item.promised_at < now
        and item.milestone not in WITH_THE_CUSTOMER
    )


def due(now: datetime) -> ColumnElement[bool]:
    """The work items to chase: late, or about to be: not yet with the customer and their ETA
    or their promise within `SOON` from now."""
    soon = (
        (WorkItem.eta >= now) & (WorkItem.eta < now + SOON)
        | (WorkItem.promised_at >= now) & (WorkItem.promised_at < now + SOON)
    ) & before_the_customer()
    return late(now) | soon
