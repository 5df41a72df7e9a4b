"""The reports' upkeep, on the worker's timer beside the sweep: the delivery report's daily
rollup (service.reports.rollup), a committed batch at a time until it has caught up."""

from __future__ import annotations

import logging

from service.db import Database
from service.reports.rollup import BATCH, roll_up

log = logging.getLogger(__name__)


def roll_up_stages(db: Database, *, batch: int = BATCH) -> int:
    """Roll up every stage span not yet counted; returns how many."""
    total = 0
    while True:
        with db.session() as session:
            counted = roll_up(session, batch=batch)
            session.commit()
        total += counted
        if counted < batch:
            break
    if total:
        log.info("Rollup: %d stage spans counted into their days", total)
    return total
