"""How a group's customer was answered: the definitions behind the service report's reply
figures, over one group's messages in order. The report computes the same over many groups in
SQL; these functions are its reference, worked out on small groups in the tests.

- A **reply** is a message by a member of the customer's dealer. The system's messages (the
  welcome, progress notifications, auto-replies, notices) are not replies, nor are a factory's
  or the brand's members'.
- A customer message **waits** from when it was written until the first reply after it; several
  customer messages before one reply all wait for that reply (each one's **reply time**).
- A **first response** is the wait of the first customer message since the last reply (or since
  the group began): what the customer felt when they started to ask. Its time is the **first
  response time**.
- A customer message is **answered the same day** when its reply comes on the same local date.
- A customer message with no reply after it is **unanswered now**; its wait so far runs to now.

Every wait is measured twice: on the wall clock and in the chain's business hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.reports.business_time import BusinessHours

CUSTOMER = "customer"
DEALER = "dealer"  # a member of the customer's dealer
OTHER = "other"  # the system, a factory's or the brand's member


@dataclass(frozen=True)
class Said:
    at: datetime
    by: str  # CUSTOMER, DEALER or OTHER


@dataclass(frozen=True)
class Wait:
    asked_at: datetime
    answered_at: datetime | None  # None: unanswered now
    first: bool  # the first customer message since the last reply


def waits(messages: Iterable[Said]) -> list[Wait]:
    """Each customer message's wait, in the order written (`messages` in order)."""
    found: list[Wait] = []
    pending: list[datetime] = []
    for message in messages:
        if message.by == CUSTOMER:
            pending.append(message.at)
        elif message.by == DEALER and pending:
            found += [Wait(at, message.at, n == 0) for n, at in enumerate(pending)]
            pending = []
    found += [Wait(at, None, n == 0) for n, at in enumerate(pending)]
    return found


@dataclass(frozen=True)
class Measured:
    wall: timedelta
    business: timedelta


@dataclass(frozen=True)
class ReplyFigures:
    reply_times: list[Measured]  # every answered customer message's
    first_response_times: list[Measured]  # every answered first response's
    answered_same_day: int
    customer_messages: int
    unanswered_now: int
    longest_wait: Measured | None  # of those unanswered now, so far


def measure(found: list[Wait], hours: BusinessHours, now: datetime) -> ReplyFigures:
    def measured(start: datetime, end: datetime) -> Measured:
        return Measured(end - start, hours.between(start, end))

    answered = [w for w in found if w.answered_at is not None]
    waiting = [w for w in found if w.answered_at is None]

    def local_day(moment: datetime):
        return moment.astimezone(hours.zone).date()

    oldest = min((w.asked_at for w in waiting), default=None)
    return ReplyFigures(
        reply_times=[measured(w.asked_at, w.answered_at) for w in answered],
        first_response_times=[measured(w.asked_at, w.answered_at) for w in answered if w.first],
        answered_same_day=sum(local_day(w.asked_at) == local_day(w.answered_at) for w in answered),
        customer_messages=len(found),
        unanswered_now=len(waiting),
        longest_wait=measured(oldest, now) if oldest is not None else None,
    )
