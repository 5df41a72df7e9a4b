"""The migration that adds the stage spans, down and up on a database of its own: the stages of
the history come back from the timeline, each item's first from when it was ordered, late
reports left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from service.cli import alembic_config
from service.db import make_engine
from service.progress.models import StageSpan
from service.progress.recording import record_progress
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "f2b3d4e5f6a7"
T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def test_up_again_fills_the_stages_from_the_timeline(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        with time_machine.travel(T0, tick=False):
            order = place_one_order(session, [("Foshan", "Sofa frame", 1, None)]).order
        [item] = order.items
        for milestone, hours in (("designed", 5), ("shipped", 29), ("designed", 30)):
            with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
                record_progress(session, work_item=item, milestone=milestone, actor="api")
        session.commit()
        written = session.execute(
            select(StageSpan.from_milestone, StageSpan.to_milestone, StageSpan.seconds)
            .order_by(StageSpan.ended_at)
        ).all()  # fmt: skip
    engine.dispose()
    assert written == [("received", "designed", 5 * 3600), ("designed", "shipped", 24 * 3600)]

    command.downgrade(alembic, BEFORE)
    assert "stage_spans" not in inspect(engine).get_table_names()
    engine.dispose()

    command.upgrade(alembic, "head")
    with Session(engine) as session:
        refilled = session.execute(
            select(StageSpan.from_milestone, StageSpan.to_milestone, StageSpan.seconds,
                   StageSpan.ended_at)
            .order_by(StageSpan.ended_at)
        ).all()  # fmt: skip
    engine.dispose()
    assert [row[:3] for row in refilled] == written
    assert refilled[-1].ended_at == T0 + timedelta(hours=29)
