"""The ordered stages of a work item and of an order."""

from __future__ import annotations

MILESTONES = (
    "received",
    "designed",
    "in_production",
    "quality_checked",
    "shipped",
    "delivered",
    "installed",
    "completed",
)
# The check constraint of every milestone column.
MILESTONE_IN = "milestone IN ({})".format(", ".join(f"'{m}'" for m in MILESTONES))
RANK = {milestone: rank for rank, milestone in enumerate(MILESTONES)}
FIRST = MILESTONES[0]


def order_milestone(item_milestones: list[str]) -> str:
    """An order is as far as its least advanced item: `completed` only when all are."""
    return min(item_milestones, key=RANK.__getitem__) if item_milestones else FIRST


# From "delivered" on a work item is with the customer: the promise made to them is kept by
# reaching it (service.orders.lateness). Those before, as a partial index's condition.
WITH_THE_CUSTOMER = MILESTONES[RANK["delivered"] :]
BEFORE_THE_CUSTOMER = MILESTONES[: RANK["delivered"]]
BEFORE_THE_CUSTOMER_IN = "milestone IN ({})".format(
    ", ".join(f"'{m}'" for m in BEFORE_THE_CUSTOMER)
)
