"""The engine: SQLite set up for several processes, and UTC datetimes on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, exc, insert, select, text

from service.chain.chains import create_chain
from service.chain.models import DirectoryGroup
from service.db import UTCDateTime, as_utc, get_in_chain, make_engine, new_id
from service.errors import Invalid, NotFound


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield engine
    engine.dispose()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_sqlite_refuses_a_row_pointing_at_nothing(sqlite_engine):
    metadata = MetaData()
    parents = Table("parents", metadata, Column("id", Integer, primary_key=True))
    children = Table(
        "children",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("parents.id")),
    )
    metadata.create_all(sqlite_engine)

    with pytest.raises(exc.IntegrityError), sqlite_engine.begin() as conn:
        conn.execute(insert(children).values(id=1, parent_id=42))
    with sqlite_engine.begin() as conn:
        conn.execute(insert(parents).values(id=42))
        conn.execute(insert(children).values(id=1, parent_id=42))


def test_sqlite_savepoints_roll_back_alone(sqlite_engine):
    metadata = MetaData()
    things = Table("things", metadata, Column("id", Integer, primary_key=True))
    metadata.create_all(sqlite_engine)

    with sqlite_engine.begin() as conn:
        conn.execute(insert(things).values(id=1))
        savepoint = conn.begin_nested()
        conn.execute(insert(things).values(id=2))
        savepoint.rollback()

    with sqlite_engine.connect() as conn:
        assert conn.execute(select(things.c.id)).scalars().all() == [1]


def test_utc_datetime_comes_back_aware_in_utc(engine):
    metadata = MetaData()
    stamps = Table("utc_stamps_test", metadata, Column("at", UTCDateTime))
    shanghai = timezone(timedelta(hours=8))
    with engine.connect() as conn:
        outer = conn.begin()
        stamps.create(conn)
        conn.execute(insert(stamps).values(at=datetime(2026, 3, 2, 17, 0, tzinfo=shanghai)))
        stored = conn.execute(select(stamps.c.at)).scalar()
        outer.rollback()

    assert stored == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_utc_datetime_refuses_a_naive_datetime(engine):
    metadata = MetaData()
    stamps = Table("naive_stamps_test", metadata, Column("at", UTCDateTime))
    with engine.connect() as conn:
        outer = conn.begin()
        stamps.create(conn)
        with pytest.raises(exc.StatementError):
            conn.execute(insert(stamps).values(at=datetime(2026, 3, 2, 9, 0)))
        outer.rollback()


def test_new_ids_are_in_creation_order():
    ids = [new_id() for _ in range(1000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_row_of_another_chain_is_no_such_row(session):
    acme, _ = create_chain(session, name="Acme Home")
    rival, _ = create_chain(session, name="Rival Living")
    group = DirectoryGroup(chain_id=rival.id, name="East", path="East")
    session.add(group)
    session.flush()
    assert get_in_chain(session, DirectoryGroup, rival.id, group.id) is group
    with pytest.raises(NotFound, match=r"^No such directory group\.$"):
        get_in_chain(session, DirectoryGroup, acme.id, group.id)
    # Named by the body's field, it is the request that is wrong: 422 on that field.
    with pytest.raises(Invalid) as raised:
        get_in_chain(session, DirectoryGroup, acme.id, new_id(), field="group_id")
    assert raised.value.details == {"fields": {"group_id": ["No such directory group."]}}


def test_a_moment_beyond_the_years_utc_can_hold_has_no_utc_value():
    assert as_utc(datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert as_utc(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14)))) is None
