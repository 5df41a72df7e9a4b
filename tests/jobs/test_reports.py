"""The worker's rollup of stage spans, a committed batch at a time until none is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from jobs.reports import roll_up_stages
from service.progress.models import StageSpan
from service.progress.recording import record_progress
from service.reports.models import StageDay
from tests.one_order import place_one_order

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def test_every_span_is_rolled_up_once_in_committed_batches(app, committed):
    with time_machine.travel(T0, tick=False):
        order = place_one_order(
            committed, [("Foshan", "Sofa frame", 1, None), ("Foshan", "Cushions", 2, None)]
        ).order
    for hours, milestone in ((2, "designed"), (30, "shipped"), (50, "delivered")):
        for item in order.items:
            with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
                record_progress(committed, work_item=item, milestone=milestone, actor="api")
    committed.commit()

    assert roll_up_stages(app.extensions["db"], batch=4) == 6  # batches of 4 and 2
    assert roll_up_stages(app.extensions["db"], batch=4) == 0
    committed.expire_all()
    assert committed.scalar(select(func.count()).where(~StageSpan.rolled)) == 0
    days = committed.scalars(select(StageDay).where(StageDay.grain == "day")).all()
    assert sum(d.count for d in days) == 6 and {d.to_milestone for d in days} == {
        "designed", "shipped", "delivered"
    }  # fmt: skip
    [month] = {d.day for d in committed.scalars(select(StageDay).where(StageDay.grain == "month"))}
    assert month == T0.date().replace(day=1)
