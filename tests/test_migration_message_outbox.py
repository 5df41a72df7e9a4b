"""The migration that made a message its own outbox entry, down and up, on a database of its
own: a message waiting to be planned waits still, both ways, and one planned stays planned."""

from __future__ import annotations

import json
import uuid

from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from service.cli import alembic_config
from service.db import make_engine
from service.groups.messages import post_system_message
from service.groups.models import Message
from service.notify.planning import plan
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "c3f7a9e1d204"  # every message had its message.posted row


def unplanned(engine) -> list[uuid.UUID]:
    with Session(engine) as session:
        return session.scalars(
            select(Message.id).where(Message.planned_at.is_(None)).order_by(Message.id)
        ).all()


def test_messages_waiting_get_their_rows_back_and_wait_again(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        world = place_one_order(session, [("Foshan", "Sofa frame", 1, None)])
        plan(session)  # the welcome is planned
        waiting = post_system_message(session, group=world.group, kind="notice", text="Shipped")
        session.commit()
        waiting_id, group_id = waiting.id, world.group.id
    assert unplanned(engine) == [waiting_id]
    engine.dispose()  # SQLite's batch mode rebuilds the table: no connection may hold it

    command.downgrade(alembic, BEFORE)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT topic, payload, done_at FROM outbox_events ORDER BY id")
        ).all()
        columns = {column["name"] for column in inspect(conn).get_columns("messages")}
    assert "planned_at" not in columns
    assert [(r.topic, _json(r.payload), r.done_at) for r in rows] == [
        ("message.posted", {"message_id": str(waiting_id), "group_id": str(group_id)}, None)
    ]
    engine.dispose()

    command.upgrade(alembic, "head")
    assert unplanned(engine) == [waiting_id]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM outbox_events")) == 0
        assert conn.scalar(text("SELECT count(*) FROM messages WHERE planned_at IS NOT NULL"))
    with Session(engine) as session:
        plan(session)
        session.commit()
    assert unplanned(engine) == []
    engine.dispose()


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
