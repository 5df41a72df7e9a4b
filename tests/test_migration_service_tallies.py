"""The migration that adds the service report's tallies, down and up on a database of its own:
what it counts from the history is what the tallies counted as people wrote (the waits, their
answers and durations, who wrote each day, the seats taken), a factory's member's message
no reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from service.chain.members import add_member
from service.chain.models import Chain
from service.cli import alembic_config
from service.db import make_engine
from service.groups.groups import add_group_member
from service.groups.messages import post_message
from service.reports.models import ReplyWait, SeatDay, WriterDay
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "f3c4e5f6a7b8"
T0 = datetime(2027, 3, 1, 12, 55, tzinfo=UTC)  # 20:55 in Shanghai


def _tallies(engine) -> dict[str, list[tuple]]:
    wait = ReplyWait
    with Session(engine) as session:
        return {
            "waits": session.execute(
                select(wait.message_id, wait.asked_at, wait.asked_day, wait.first,
                       wait.answered_at, wait.answered_by, wait.wall_seconds,
                       wait.business_seconds, wait.wall_bucket, wait.business_bucket,
                       wait.same_day, wait.dealer_id, wait.owner_member_id)
                .order_by(wait.asked_at)
            ).all(),
            "writers": session.execute(
                select(WriterDay.group_id, WriterDay.day, WriterDay.writer, WriterDay.messages,
                       WriterDay.owner_member_id)
                .order_by(WriterDay.day, WriterDay.writer)
            ).all(),
            "seats": session.execute(
                select(SeatDay.grain, SeatDay.day, SeatDay.owner_member_id, SeatDay.seats)
                .order_by(SeatDay.grain, SeatDay.day)
            ).all(),
        }  # fmt: skip


def test_up_again_counts_the_history_as_the_tallies_did(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        with time_machine.travel(T0 - timedelta(hours=11), tick=False):
            world = place_one_order(session, [("Foshan", "Sofa frame", 1, None)])
            group = world.group
            chain = session.get(Chain, world.chain.id)
            factory, _ = world.factories["Foshan"]
            coordinator = add_member(session, chain_id=chain.id, organisation_id=factory.id,
                                     name="Qian", role="coordinator")  # fmt: skip
            add_group_member(
                session, chain_id=chain.id, group_id=group.id, member_id=coordinator.id
            )
        for minutes, sender, member in (
            (0, "customer", None),  # answered at 09:02 the next morning: 7 business minutes
            (5, "member", coordinator.id),  # a factory's member: not a reply
            (12 * 60 + 7, "member", group.owner_member_id),
            (13 * 60, "customer", None),  # two before one reply
            (13 * 60 + 10, "customer", None),
            (13 * 60 + 30, "member", group.owner_member_id),
            (14 * 60, "customer", None),  # unanswered
        ):
            with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
                post_message(session, group=group, text="Hello", sender=sender,
                             sender_member_id=member)  # fmt: skip
        session.commit()
    engine.dispose()
    counted = _tallies(engine)
    engine.dispose()
    waits = [(w.first, w.wall_seconds, w.business_seconds) for w in counted["waits"]]
    assert waits == [(True, 727 * 60, 7 * 60), (True, 30 * 60, 30 * 60),
                     (False, 20 * 60, 20 * 60), (True, None, None)]  # fmt: skip
    assert sum(w.messages for w in counted["writers"]) == 7

    command.downgrade(alembic, BEFORE)
    assert "reply_waits" not in inspect(engine).get_table_names()
    engine.dispose()
    command.upgrade(alembic, "head")
    assert _tallies(engine) == counted
    engine.dispose()
