"""Writing what `judge` decided (service.progress.recording): the timeline entries, the work
items and orders that moved, and the notifications, each its own outbox entry.

`apply` writes a statement per table, on every database. A factory's webhook delivery also
claims its webhook-id with its first entry (see TimelineEntry), and writes the rest only if
the claim holds: `apply_claimed`. On PostgreSQL that is one statement, the claim and every
write in data-modifying CTEs over array parameters, guarded by the claim's RETURNING: one
round trip and one prepared statement whatever the batch's size, where the claim and a
statement per table took five for one event. That is most of what the webhook costs above
one INSERT (docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, insert, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from service.db import UTCDateTime, utcnow
from service.groups.models import Message
from service.notify.outbox import announce
from service.orders.models import Order, WorkItem
from service.progress.models import StageSpan, TimelineEntry

if TYPE_CHECKING:
    from service.progress.recording import Plan

_TIMELINE_INSERT = insert(TimelineEntry.__table__)
_MESSAGE_INSERT = insert(Message.__table__)
_SPAN_INSERT = insert(StageSpan.__table__)
_ITEM_UPDATE = (
    update(WorkItem.__table__)
    .where(WorkItem.id == bindparam("_id"))
    .values(
        milestone=bindparam("_milestone"),
        milestone_at=bindparam("_milestone_at", type_=UTCDateTime),
        eta=func.coalesce(bindparam("_eta", type_=UTCDateTime), WorkItem.eta),
    )
)
_ORDER_UPDATE = (
    update(Order.__table__)
    .where(Order.id == bindparam("_id"))
    .values(
        milestone=bindparam("_milestone"),
        updated_at=bindparam("_updated_at", type_=UTCDateTime),
    )
)

# The claim alone: INSERT … ON CONFLICT DO NOTHING on the partial unique index, which both
# databases have.
_CLAIMS = {
    dialect: insert_(TimelineEntry.__table__)
    .on_conflict_do_nothing(
        index_elements=["actor", "webhook_id"], index_where=TimelineEntry.webhook_id.is_not(None)
    )
    .returning(TimelineEntry.__table__.c.id)
    for dialect, insert_ in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}

# The claim and everything else, on PostgreSQL, from one JSON parameter (the plan's rows by
# column name): psycopg sends one string, where arrays of every column cost it more than the
# database's work. Every sub-statement sees the same snapshot and runs once; each write is
# guarded by the claim having returned its row, so a delivery already claimed writes nothing.
# The planner takes a set-returning function for 100 rows: the updates also name their rows
# by `id = ANY (…)`, which it estimates as a few, so that it looks them up by primary key
# instead of scanning the table.
_CLAIMED_WRITE = text("""
WITH plan AS (
    SELECT CAST(:plan AS jsonb) AS rows
), claim AS (
    INSERT INTO timeline_entries
    SELECT * FROM jsonb_populate_record(NULL::timeline_entries, (SELECT rows -> 'claim' FROM plan))
    ON CONFLICT (actor, webhook_id) WHERE webhook_id IS NOT NULL DO NOTHING
    RETURNING id
), entries AS (
    INSERT INTO timeline_entries
    SELECT * FROM jsonb_populate_recordset(NULL::timeline_entries,
                                          (SELECT rows -> 'entries' FROM plan))
    WHERE EXISTS (SELECT FROM claim)
), items AS (
    UPDATE work_items
    SET milestone = i.milestone, milestone_at = i.milestone_at,
        eta = coalesce(i.eta, work_items.eta)
    FROM jsonb_to_recordset((SELECT rows -> 'items' FROM plan))
         AS i (id uuid, milestone text, milestone_at timestamptz, eta timestamptz)
    WHERE work_items.id = i.id AND EXISTS (SELECT FROM claim)
      AND work_items.id = ANY (ARRAY(SELECT CAST(r ->> 'id' AS uuid)
                                     FROM plan, jsonb_array_elements(rows -> 'items') AS r))
), orders_moved AS (
    UPDATE orders SET milestone = o.milestone, updated_at = o.updated_at
    FROM jsonb_to_recordset((SELECT rows -> 'orders' FROM plan))
         AS o (id uuid, milestone text, updated_at timestamptz)
    WHERE orders.id = o.id AND EXISTS (SELECT FROM claim)
      AND orders.id = ANY (ARRAY(SELECT CAST(r ->> 'id' AS uuid)
                                 FROM plan, jsonb_array_elements(rows -> 'orders') AS r))
), notifications AS (
    INSERT INTO messages
    SELECT * FROM jsonb_populate_recordset(NULL::messages, (SELECT rows -> 'messages' FROM plan))
    WHERE EXISTS (SELECT FROM claim)
), spans AS (
    INSERT INTO stage_spans
    SELECT * FROM jsonb_populate_recordset(NULL::stage_spans, (SELECT rows -> 'spans' FROM plan))
    WHERE EXISTS (SELECT FROM claim)
)
SELECT id FROM claim
""")


def apply(session: Session, plan: Plan) -> None:
    """Write what `judge` decided, a statement per table."""
    connection = session.connection()
    if plan.timeline:
        connection.execute(_TIMELINE_INSERT, plan.timeline)
    if plan.items:
        connection.execute(_ITEM_UPDATE, list(plan.items.values()))
    if plan.orders:
        connection.execute(_ORDER_UPDATE, list(plan.orders.values()))
    if plan.messages:
        connection.execute(_MESSAGE_INSERT, plan.messages)
    if plan.spans:
        connection.execute(_SPAN_INSERT, plan.spans)
    _written(session, plan)


def apply_claimed(session: Session, plan: Plan, claim: dict) -> bool:
    """Write `claim` (the first timeline entry, with its webhook-id and answer) if no entry
    holds that webhook-id yet, and then the rest of `plan`. Returns whether the claim held;
    if it did not, nothing was written."""
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        if session.connection().scalar(_CLAIMS[dialect], claim) is None:
            return False
        apply(session, plan)
        return True
    now = utcnow()
    rows = {
        "claim": {**claim, "created_at": now},
        "entries": [{**entry, "created_at": now} for entry in plan.timeline],
        "items": [
            {"id": i["_id"], "milestone": i["_milestone"],
             "milestone_at": i["_milestone_at"], "eta": i["_eta"]}
            for i in plan.items.values()
        ],
        "orders": [
            {"id": o["_id"], "milestone": o["_milestone"], "updated_at": o["_updated_at"]}
            for o in plan.orders.values()
        ],
        "messages": [{**m, "flagged": False, "created_at": now} for m in plan.messages],
        "spans": plan.spans,
    }  # fmt: skip
    plan_json = json.dumps(rows, default=_json_value, separators=(",", ":"))
    if session.connection().scalar(_CLAIMED_WRITE, {"plan": plan_json}) is None:
        return False
    _written(session, plan)
    return True


def _json_value(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()  # aware: every datetime here is UTC (service.db.utcnow)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _written(session: Session, plan: Plan) -> None:
    # Each message is its own outbox entry: the drain is woken at commit, and so are the open
    # chat pages of its group.
    for message in plan.messages:
        announce(session, group_id=message["group_id"])
    # Objects of this session that the statements changed are read again when next used,
    # not served stale.
    for cls, ids in ((WorkItem, plan.items), (Order, plan.orders)):
        for id_ in ids:
            obj = session.identity_map.get(identity_key(cls, id_))
            if obj is not None:
                session.expire(obj)
