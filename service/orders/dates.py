"""The dates a person gives for an order (the promise to the customer, the installation
appointment): checked the same way, and kept in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.db import as_utc
from service.errors import Invalid

# Further ahead than this is a typing mistake.
AHEAD = timedelta(days=2 * 366)


def plausible_date(moment: datetime, *, placed_at: datetime, now: datetime, field: str) -> datetime:
    """`moment` in UTC, if it can be such a date: with an offset, not before the order was
    placed, at most two years ahead; else 422 naming `field`."""
    if moment.tzinfo is None:
        raise Invalid.field(field, "Needs a time zone offset.")
    at = as_utc(moment)
    if at is None:
        raise Invalid.field(field, "Out of range.")
    if at < placed_at:
        raise Invalid.field(field, "Before the order was placed.")
    if at > now + AHEAD:
        raise Invalid.field(field, "More than two years ahead.")
    return at
