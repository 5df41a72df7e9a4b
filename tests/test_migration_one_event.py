"""The migration that moved a webhook delivery's claim onto its first timeline entry, down and
up, on a database of its own: every claim and answer is kept both ways."""

from __future__ import annotations

import json
import uuid

from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from service.cli import alembic_config
from service.db import make_engine
from service.progress.models import TimelineEntry
from service.progress.recording import record_progress
from service.progress.reports import Event, earlier_answer, record_report
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "b2e6f8d3ca02"  # progress_reports still held the claims


def claims(engine) -> dict:
    """The claimed entries: id -> (webhook-id, answer)."""
    with Session(engine) as session:
        rows = session.execute(
            select(TimelineEntry.id, TimelineEntry.webhook_id, TimelineEntry.answer).where(
                TimelineEntry.webhook_id.is_not(None)
            )
        )
        return {row.id: (row.webhook_id, row.answer) for row in rows}


def test_claims_go_back_to_progress_reports_and_return_to_their_entries(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        world = place_one_order(
            session, [("Foshan", "Sofa frame", 1, "FS-77"), ("Dongguan", "Cushions", 4, None)]
        )
        (foshan, _), (dongguan, _) = world.factories["Foshan"], world.factories["Dongguan"]
        frame, cushions = world.order.items
        record_report(session, factory_id=foshan.id, webhook_id="one",
                      events=[Event("FS-77", "designed")])  # fmt: skip
        # The same webhook-id from another factory, a batch whose first step is late.
        record_report(session, factory_id=dongguan.id, webhook_id="one",
                      events=[Event(str(cushions.id), "received"),
                              Event(str(cushions.id), "shipped")])  # fmt: skip
        record_progress(session, work_item=frame, milestone="shipped", actor="api")
        record_report(session, factory_id=foshan.id, webhook_id="two",
                      events=[Event("FS-77", "shipped")])  # fmt: skip
        session.commit()
        factories = {"one": {foshan.id, dongguan.id}, "two": {foshan.id}}
        foshan_id, dongguan_id, cushions_id = foshan.id, dongguan.id, cushions.id
    before = claims(engine)
    assert sorted(webhook_id for webhook_id, _ in before.values()) == ["one", "one", "two"]
    engine.dispose()  # SQLite's batch mode rebuilds the table: no connection may hold it

    command.downgrade(alembic, BEFORE)
    with engine.connect() as conn:
        reports = conn.execute(
            text("SELECT factory_id, webhook_id, events, answer FROM progress_reports")
        ).all()
        columns = {column["name"] for column in inspect(conn).get_columns("timeline_entries")}
        checks = inspect(conn).get_check_constraints("timeline_entries")
    assert "webhook_id" not in columns
    assert {(str(uuid.UUID(str(r.factory_id))), r.webhook_id) for r in reports} == {
        (str(f), webhook_id) for webhook_id, ids in factories.items() for f in ids
    }
    answers = sorted(_canonical(answer) for _, answer in before.values())
    assert sorted(_canonical(r.answer) for r in reports) == answers
    assert sorted(r.events for r in reports) == [1, 1, 2]
    assert [c["name"] for c in checks] == ["ck_timeline_entries_milestone"]
    engine.dispose()

    command.upgrade(alembic, "head")
    assert claims(engine) == before
    with Session(engine) as session:
        assert earlier_answer(session, foshan_id, "two") == next(
            answer for webhook_id, answer in before.values() if webhook_id == "two"
        )
        again, new = record_report(session, factory_id=dongguan_id, webhook_id="one",
                                   events=[Event(str(cushions_id), "installed")])  # fmt: skip
        assert not new and again["accepted"] == 2
    engine.dispose()


def test_pending_milestone_changed_rows_are_marked_done(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        chain_id = place_one_order(session, [("Foshan", "Sofa frame", 1, None)]).chain.id
        session.commit()
    engine.dispose()
    command.downgrade(alembic, BEFORE)  # where milestone.changed rows were still written
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO outbox_events (id, chain_id, topic, payload, created_at, attempts) "
                 "VALUES (:id, :chain_id, 'milestone.changed', '{}', CURRENT_TIMESTAMP, 0)"),
            {"id": _uuid(engine), "chain_id": _uuid(engine, chain_id)},
        )  # fmt: skip
    engine.dispose()

    command.upgrade(alembic, "head")
    with engine.connect() as conn:
        pending = conn.scalar(
            text("SELECT count(*) FROM outbox_events WHERE done_at IS NULL AND topic = :topic"),
            {"topic": "milestone.changed"},
        )
    assert pending == 0
    engine.dispose()


def _uuid(engine, value: uuid.UUID | None = None):
    value = value or uuid.uuid4()
    return value if engine.dialect.name == "postgresql" else value.hex


def _canonical(answer) -> str:
    """An answer as comparable text, however the driver hands JSON back."""
    return json.dumps(json.loads(answer) if isinstance(answer, str) else answer, sort_keys=True)
