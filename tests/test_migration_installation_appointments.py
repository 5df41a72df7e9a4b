"""The migration of installation appointments, down and up, on a database of its own: the
orders stay (the column is dropped in place), and the indexes come and go with it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from service.cli import alembic_config
from service.db import make_engine
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "e4f6a8b0bc04"
INDEXES = {
    "orders": "ix_orders_installation_at",
    "work_items": "ix_work_items_eta",
    "messages": "ix_messages_group_sender",
}


def _shape(engine) -> tuple[bool, set[str]]:
    with engine.connect() as conn:
        found = inspect(conn)
        column = "installation_at" in {c["name"] for c in found.get_columns("orders")}
        indexes = {
            index["name"] for table in (*INDEXES, "messages") for index in found.get_indexes(table)
        }
    return column, indexes & {*INDEXES.values(), "ix_messages_flagged"}


def test_down_and_up_keep_the_orders_and_move_the_column_and_indexes(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        place_one_order(session, [("Foshan", "Sofa frame", 1, None)])
        session.commit()
    assert _shape(engine) == (True, {*INDEXES.values(), "ix_messages_flagged"})
    engine.dispose()

    command.downgrade(alembic, BEFORE)
    assert _shape(engine) == (False, set())
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM orders")) == 1
        assert conn.scalar(text("SELECT count(*) FROM work_items")) == 1
    engine.dispose()

    command.upgrade(alembic, "head")
    assert _shape(engine) == (True, {*INDEXES.values(), "ix_messages_flagged"})
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT installation_at FROM orders")) is None
    engine.dispose()
