"""A report's period: days of the chain's time zone, both ends included, checked; and the
whole months within it, which the rollup keeps apart (service.reports.rollup)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from service.chain.chains import get_chain
from service.errors import FieldErrors, Reason

LONGEST_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)
# Days outside these are typing mistakes (and near the calendar's ends, arithmetic overflows).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """Days `start` to `end`, both included, in the chain's time zone; and as UTC bounds."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=self.zone)

    @property
    def until(self) -> datetime:
        # Midnight after the last day, built on the date: a day may be 23 or 25 hours long.
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=self.zone)

    def months(self) -> tuple[date, date] | None:
        """The first days of the first and the last whole month within the period, if any."""
        first = self.start if self.start.day == 1 else next_month(self.start)
        # The month after the last whole one: the end's, unless the end is its last day.
        ends_a_month = (self.end + timedelta(days=1)).day == 1
        after = next_month(self.end) if ends_a_month else self.end.replace(day=1)
        if first >= after:
            return None
        return first, previous_month(after)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def period_of(
    session: Session, chain_id: uuid.UUID, start: date | None, end: date | None, now: datetime
) -> Period:
    """The period asked for, checked: `to` defaults to today, `from` to 29 days before it."""
    zone = ZoneInfo(get_chain(session, chain_id).timezone)
    errors = FieldErrors()
    for name, day in (("from", start), ("to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            errors.add(name, Reason("Between {first} and {last}.", first=FIRST_DAY, last=LAST_DAY))
    errors.raise_any()
    end = end or now.astimezone(zone).date()
    start = start or end - DEFAULT_PERIOD + timedelta(days=1)
    if start > end:
        errors.add("from", "After `to`.")
    elif end - start >= LONGEST_PERIOD:
        errors.add("from", "At most 366 days before `to`: ask for a year at a time.")
    errors.raise_any()
    return Period(start, end, zone)


def rollup_rows(period: Period, model) -> ColumnElement[bool]:
    """The rows of a rollup kept by day and by month (`model` has `grain` and `day`, as
    service.reports.models.StageDay) that cover the period: its whole months', and the other
    days'."""
    days = (model.grain == "day") & (model.day >= period.start)
    months = period.months()
    if months is None:
        return days & (model.day <= period.end)
    first, last = months
    return (
        (model.grain == "month") & (model.day >= first) & (model.day <= last)
        | days & (model.day < first)
        | (model.grain == "day") & (model.day >= next_month(last)) & (model.day <= period.end)
    )
