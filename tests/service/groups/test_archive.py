"""A group's whole history, oldest first, as JSON lines or CSV; and a long export (a read-only
session) never holds up the writers on SQLite."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, exc, func, select

from service.db import Database
from service.groups.archive import COLUMNS, as_csv, as_jsonl
from service.groups.messages import iter_history, post_message
from service.groups.models import DeliveryGroup, Message
from service.models import metadata
from service.progress.recording import record_progress
from tests.service.customers.chain_world import build_chain_world

TRICKY = 'He said "fine", then:\nline two; 长度, commas, \\ and a tab\t.'


@pytest.fixture
def history(acme):
    """Two groups of the chain: the first with the welcome and five messages (six: a whole
    number of batches of two), the second with the welcome and one (two)."""
    _, group = acme.order(acme.customer("Wang Fang"))
    for n in range(4):
        post_message(acme.session, group=group, text=f"message {n}", sender="customer")
    post_message(
        acme.session,
        group=group,
        text=TRICKY,
        sender="member",
        sender_member_id=acme.designer.id,
        client_message_id="c-1",
    )
    _, other = acme.order(acme.customer("Zhang San"))
    post_message(acme.session, group=other, text="Call me on 13912345678", sender="customer")
    return group, other


def messages_of(world, *groups) -> list[Message]:
    return list(
        world.session.scalars(
            select(Message)
            .where(Message.group_id.in_([group.id for group in groups]))
            .order_by(Message.id)
        )
    )


@pytest.mark.parametrize("batch", [1, 2, 3, 1000])
def test_history_yields_every_message_once_oldest_first_across_batches(acme, history, batch):
    group, other = history

    whole = list(iter_history(acme.session, chain_id=acme.id, batch=batch))
    one = list(iter_history(acme.session, chain_id=acme.id, group_ids=[group.id], batch=batch))

    assert whole == messages_of(acme, group, other)
    assert len(whole) == 8
    assert one == messages_of(acme, group)
    assert len(one) == 6


def test_history_with_an_odd_number_of_messages_ends_with_a_short_batch(acme, history):
    group, _ = history
    post_message(acme.session, group=group, text="one more", sender="customer")

    one = list(iter_history(acme.session, chain_id=acme.id, group_ids=[group.id], batch=2))

    assert one == messages_of(acme, group)
    assert len(one) == 7


def test_history_keeps_to_its_chain_and_its_date(acme, rival, history):
    group, _ = history
    rival.order(rival.customer())
    last = messages_of(acme, group)[-1]

    assert {m.chain_id for m in iter_history(acme.session, chain_id=acme.id, batch=2)} == {acme.id}
    since = list(iter_history(acme.session, chain_id=acme.id, since=last.created_at))
    assert last in since
    assert all(m.created_at >= last.created_at for m in since)
    later = last.created_at + timedelta(days=1)
    assert list(iter_history(acme.session, chain_id=acme.id, since=later)) == []


def test_jsonl_parses_back_to_every_message(acme, history):
    group, _ = history
    messages = messages_of(acme, group)

    lines = "".join(
        as_jsonl(iter_history(acme.session, chain_id=acme.id, group_ids=[group.id], batch=2))
    ).splitlines()

    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [str(m.id) for m in messages]
    assert [r["text"] for r in records] == [m.text for m in messages]
    assert records[-1]["text"] == TRICKY
    assert records[-1]["sender_member_id"] == str(acme.designer.id)
    assert records[-1]["client_message_id"] == "c-1"
    assert records[0]["kind"] == "welcome"
    assert all(set(r) == set(COLUMNS) for r in records)


def test_csv_parses_back_to_every_message(acme, history):
    group, other = history
    messages = messages_of(acme, group, other)

    text = "".join(as_csv(iter_history(acme.session, chain_id=acme.id, batch=2)))

    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert [r["id"] for r in rows] == [str(m.id) for m in messages]
    assert [r["text"] for r in rows] == [m.text for m in messages]
    assert [r["flagged"] for r in rows] == [str(m.flagged) for m in messages]
    flagged = next(r for r in rows if r["flagged"] == "True")
    assert flagged["flag_reason"] == "Contains a mobile number."
    assert [r["group_id"] for r in rows] == [str(m.group_id) for m in messages]


def test_csv_keeps_structured_payloads_as_json(acme):
    order, group = acme.order(acme.customer())
    progress = record_progress(
        acme.session, work_item=order.items[0], milestone="shipped", actor="api"
    )

    text = "".join(as_csv(iter_history(acme.session, chain_id=acme.id, group_ids=[group.id])))

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert json.loads(rows[-1]["payload"]) == progress.notification.payload
    assert rows[0]["payload"] == ""  # the welcome has none


def test_an_empty_history_is_a_header_or_nothing(acme):
    assert "".join(as_jsonl(iter_history(acme.session, chain_id=acme.id))) == ""
    assert "".join(as_csv([])).splitlines() == [",".join(COLUMNS)]


# --- SQLite: a long read does not hold up the writers ---


@pytest.fixture
def sqlite_db(tmp_path):
    """A database of its own on a temporary SQLite file, whose connections give up at once
    when the database is locked (rather than after 30 s): a writer that would be held up
    fails the test straight away."""
    db = Database(f"sqlite:///{tmp_path / 'archive.sqlite3'}")

    @event.listens_for(db.engine, "connect")
    def no_waiting(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    metadata.create_all(db.engine)
    with db.session() as session:
        world = build_chain_world(session, "Acme Home")
        _, group = world.order(world.customer())
        for n in range(4):
            post_message(session, group=group, text=f"message {n}", sender="customer")
        session.commit()
    yield db, world, group
    db.engine.dispose()


def test_a_read_only_session_reading_history_does_not_block_a_writer(sqlite_db):
    db, world, group = sqlite_db

    with db.session(read_only=True) as reader:
        exporting = iter_history(reader, chain_id=world.id, batch=2)
        first = next(exporting)  # the read transaction is open from here on

        with db.session() as writer:
            [late], _ = post_message(
                writer,
                group=writer.get(DeliveryGroup, group.id),
                text="posted during the export",
                sender="customer",
            )
            writer.commit()

        rest = list(exporting)
        # The export reads one snapshot, the one it started with.
        assert [first, *rest] == reader.scalars(
            select(Message).where(Message.chain_id == world.id).order_by(Message.id)
        ).all()
        assert late.id not in {m.id for m in rest}
        assert len(rest) == 4

    with db.session(read_only=True) as after:
        assert after.get(Message, late.id) is not None


def test_a_writing_session_does_hold_up_another_writer(sqlite_db):
    # What the read-only session avoids: a session that may write takes the lock at BEGIN.
    db, _, group = sqlite_db

    with db.session() as holder:
        holder.scalar(select(func.count()).select_from(Message))

        with db.session() as writer, pytest.raises(exc.OperationalError, match="locked"):
            post_message(
                writer, group=writer.get(DeliveryGroup, group.id), text="blocked", sender="customer"
            )
