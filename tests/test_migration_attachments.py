"""The attachments' table, down and up again on a database of its own."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from service.cli import alembic_config
from service.db import make_engine
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "e5a7c9e1cd05"


def tables(url) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_attachments_table_goes_and_comes_back(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    assert "attachments" in tables(scratch_url)

    command.downgrade(alembic, BEFORE)
    assert "attachments" not in tables(scratch_url)
    assert "messages" in tables(scratch_url)

    command.upgrade(alembic, "head")
    assert "attachments" in tables(scratch_url)
