"""The benches' database: migrated to head, and on PostgreSQL first emptied (its public schema
dropped and made again), which only a database named for it may be."""

from __future__ import annotations

import argparse
import re

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.cli import alembic_config
from service.db import make_engine


def check_droppable(parser: argparse.ArgumentParser, database_url: str) -> None:
    """Refuses a database whose name does not say bench or test: the bench drops its schema."""
    if not re.search("bench|test", make_url(database_url).database or ""):
        parser.error("--database-url: the bench drops its schema; the name must say bench/test")


def migrated(sqlalchemy_url: str, *, fresh: bool = True) -> None:
    """The schema at head; `fresh`: on PostgreSQL, emptied first (SQLite benches start from a
    new file)."""
    if fresh and sqlalchemy_url.startswith("postgresql"):
        engine = make_engine(sqlalchemy_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    alembic = alembic_config(sqlalchemy_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
