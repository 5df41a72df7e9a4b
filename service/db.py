"""Engine, session factory and the declarative base. No connection is opened at import time."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TypeVar

import uuid6
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.errors import no_such

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    # UUIDv7: random enough to be unguessable across tenants, time-ordered so that
    # primary-key order is creation order (keyset pagination, index locality).
    return uuid6.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime | None:
    """`value` in UTC, or None when UTC has no such date (9999-12-31T23:00-14:00): the years
    1-9999 in UTC are what a column, and a Python datetime, can hold."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Row = TypeVar("Row", bound=Base)
# What a model is called in an answer, where its class name does not say it in words.
_NOUNS = {"ApiKey": "API key"}


def get_in_chain(
    session: Session, model: type[Row], chain_id: uuid.UUID, id: uuid.UUID, field: str | None = None
) -> Row:
    """The row of this chain with this id, or no_such: one chain never sees another's rows,
    not even that they exist. `field` names the body's or query's field that gave the id (422);
    without it the URL's path did (404)."""
    row = session.get(model, id)
    if row is None or row.chain_id != chain_id:
        raise no_such(_noun(model), field=field)
    return row


def _noun(model: type) -> str:
    name = model.__name__
    return _NOUNS.get(name) or re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def among(session: Session, column, values) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL as `column = ANY(:array)`: one parameter, so the
    statement reads the same however many values there are, and psycopg parses and prepares
    it once; an IN list of n parameters is a new statement, parsed in Python, for every n."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


# The refusals a change made at the same time, or data already stored, causes: a key taken, a
# row referred to and removed meanwhile (PostgreSQL's SQLSTATE, SQLite's extended code). A NOT
# NULL or CHECK refusal is a bug of ours, and stays one.
_CONFLICTS = frozenset(
    {
        "23505",  # unique_violation
        "23503",  # foreign_key_violation
        "23P01",  # exclusion_violation
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_FOREIGNKEY",
    }
)


def conflict_constraint(error: IntegrityError) -> str | None:
    """What refused a write that conflicts with another or with stored data, for the log: the
    constraint's name (PostgreSQL), or SQLite's words, which name the columns, not the values.
    None when the refusal is not a conflict."""
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if code not in _CONFLICTS:
        return None
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    return name or str(orig).splitlines()[0]


# Execution option naming how a SQLite transaction begins (ignored by other databases).
SQLITE_BEGIN = "sqlite_begin"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        # A transaction that may write takes the write lock up front (IMMEDIATE): web and
        # worker processes then wait for each other (busy_timeout) instead of failing a
        # read-then-write upgrade. Read-only ones begin DEFERRED and, under WAL, never
        # block a writer however long they read (a streamed export, say).
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The app's engine and session factory, kept in app.extensions["db"]."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self, *, read_only: bool = False) -> Session:
        if read_only:
            return self.sessionmaker(execution_options={SQLITE_BEGIN: "DEFERRED"})
        return self.sessionmaker()
