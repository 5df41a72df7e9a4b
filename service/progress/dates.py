"""What a progress report's dates may be: in UTC's years 1-9999, an `occurred_at` neither
more than a day ahead nor before its work item existed, an `eta` not before the step it
comes with. A report that breaks one is refused whole; nothing of it is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.db import as_utc

# A sender's clock may run behind ours (as much as a webhook's signature allows).
CLOCK_SKEW = timedelta(minutes=5)
AHEAD = timedelta(days=1)

OUT_OF_RANGE = "Out of range: the date must fall within the years 1-9999 in UTC."


def implausible(
    *, occurred_at: datetime | None, eta: datetime | None, created_at: datetime, now: datetime
) -> dict[str, str]:
    """Each date field that breaks a rule -> why ({} when all is well). `occurred_at` None
    means now, which is never too early: only a date the sender gave is judged."""
    errors = {}
    occurred = now if occurred_at is None else as_utc(occurred_at)
    if occurred is None:
        errors["occurred_at"] = OUT_OF_RANGE
    elif occurred > now + AHEAD:
        errors["occurred_at"] = "More than a day in the future."
    elif occurred_at is not None and occurred < created_at - CLOCK_SKEW:
        errors["occurred_at"] = (
            f"Before the work item existed (it was created {created_at.isoformat()})."
        )
    if eta is not None:
        due = as_utc(eta)
        if due is None:
            errors["eta"] = OUT_OF_RANGE
        elif occurred is not None and due < occurred:
            errors["eta"] = "Before occurred_at (or now, when occurred_at is not given)."
    return errors
