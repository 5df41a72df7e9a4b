"""the service report's tallies: customers' waits for a reply, who wrote each day, seats taken

Revision ID: f4d5e6f7a8b9
Revises: f3c4e5f6a7b8
Create Date: 2026-12-03 20:00:00

From now on they are counted as people write (service.reports.tallies). Those of the history
are counted here from the messages and the seats there are: each group's messages in order,
a wait ended by the first message of a member of the group's dealer; seats for the groups'
owners now.
"""

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from service.reports.business_time import BusinessHours
from service.reports.replies import CUSTOMER, DEALER, OTHER, Said, waits
from service.reports.sketch import bucket

revision: str = "f4d5e6f7a8b9"
down_revision: str | None = "f3c4e5f6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "reply_waits",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("chain_id", sa.Uuid(), sa.ForeignKey("chains.id"), nullable=False),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("delivery_groups.id"), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("owner_member_id", sa.Uuid(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("asked_at", UTC_DATETIME, nullable=False),
        sa.Column("asked_day", sa.Date(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("wall_seconds", sa.BigInteger(), nullable=True),
        sa.Column("business_seconds", sa.BigInteger(), nullable=True),
        sa.Column("wall_bucket", sa.SmallInteger(), nullable=True),
        sa.Column("business_bucket", sa.SmallInteger(), nullable=True),
        sa.Column("same_day", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_reply_waits_period", "reply_waits", ["chain_id", "asked_day"])
    op.create_index("ix_reply_waits_dealer", "reply_waits", ["chain_id", "dealer_id", "asked_day"])
    for name, columns in (
        ("ix_reply_waits_open", ["group_id"]),
        ("ix_reply_waits_unanswered", ["chain_id", "asked_day"]),
    ):
        op.create_index(
            name,
            "reply_waits",
            columns,
            sqlite_where=sa.text("answered_at IS NULL"),
            postgresql_where=sa.text("answered_at IS NULL"),
        )
    op.create_table(
        "writer_days",
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("delivery_groups.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("writer", sa.String(36), primary_key=True),
        sa.Column("chain_id", sa.Uuid(), sa.ForeignKey("chains.id"), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("owner_member_id", sa.Uuid(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
    )
    op.create_index("ix_writer_days_period", "writer_days", ["chain_id", "day"])
    op.create_table(
        "seat_days",
        sa.Column("chain_id", sa.Uuid(), sa.ForeignKey("chains.id"), primary_key=True),
        sa.Column("grain", sa.String(5), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("dealer_id", sa.Uuid(), sa.ForeignKey("organisations.id"), primary_key=True),
        sa.Column("owner_member_id", sa.Uuid(), sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("seats", sa.Integer(), nullable=False),
    )
    _count_the_history(op.get_bind())


def _count_the_history(connection) -> None:
    found = sa.text(
        "SELECT id, timezone, business_hours_start, business_hours_end FROM chains"
    ).columns(
        sa.column("id", sa.Uuid()),
        *(sa.column(name, sa.String()) for name in ("timezone", "opens", "closes")),
    )
    chains = {
        chain_id: BusinessHours.of(zone, opens, closes)
        for chain_id, zone, opens, closes in connection.execute(found)
    }
    _count_seats(connection, chains)
    rows = connection.execute(
        sa.text("""
            SELECT g.id, g.chain_id, g.dealer_id, g.owner_member_id, m.id, m.sender,
                   m.sender_member_id, w.organisation_id, m.created_at
            FROM messages m
            JOIN delivery_groups g ON g.id = m.group_id
            LEFT JOIN members w ON w.id = m.sender_member_id
            WHERE m.sender IN ('customer', 'member')
            ORDER BY m.group_id, m.created_at, m.id
        """)
        .columns(
            *(sa.column(name, sa.Uuid()) for name in ("g", "chain", "dealer", "owner", "m")),
            sa.column("sender", sa.String()),
            *(sa.column(name, sa.Uuid()) for name in ("writer", "organisation")),
            sa.column("created_at", sa.DateTime()),
        )
        .execution_options(yield_per=BATCH)
    )
    written: Counter = Counter()
    group, messages = None, []
    for row in rows:
        if row[0] != group and messages:
            _count_group(connection, chains, group, messages, written)
            messages = []
        group = row[0]
        messages.append(row)
    if messages:
        _count_group(connection, chains, group, messages, written)
    keys = ("group_id", "day", "writer", "chain_id", "dealer_id", "owner_member_id")
    days = sa.table("writer_days", *(_typed(name) for name in (*keys, "messages")))
    entries = [dict(zip(keys, key, strict=True), messages=n) for key, n in written.items()]
    for start in range(0, len(entries), BATCH):
        connection.execute(days.insert(), entries[start : start + BATCH])


def _count_group(connection, chains, group_id, messages, written: Counter) -> None:
    _, chain_id, dealer_id, owner_id = messages[0][:4]
    hours = chains[chain_id]
    said, asked = [], []
    for _, _, _, _, message_id, sender, writer, organisation, created in messages:
        at = _aware(created)
        day = at.astimezone(hours.zone).date()
        who = "customer" if sender == "customer" else str(writer)
        written[(group_id, day, who, chain_id, dealer_id, owner_id)] += 1
        by = CUSTOMER if sender == "customer" else DEALER if organisation == dealer_id else OTHER
        said.append(Said(at, by))
        if by == CUSTOMER:
            asked.append(message_id)
    # The member who answered: the first of the dealer's after the wait began.
    answerers = {
        _aware(created): writer
        for *_, sender, writer, organisation, created in messages
        if sender == "member" and organisation == dealer_id
    }
    rows = []
    # waits() gives the customer's messages' waits in the order they were written.
    for wait, message_id in zip(waits(said), asked, strict=True):
        day = wait.asked_at.astimezone(hours.zone).date()
        row = {
            "id": uuid.uuid4(), "chain_id": chain_id, "group_id": group_id,
            "dealer_id": dealer_id, "owner_member_id": owner_id,
            "message_id": message_id, "asked_at": _stored(connection, wait.asked_at),
            "asked_day": day, "first": wait.first, "answered_at": None, "answered_by": None,
            "wall_seconds": None, "business_seconds": None, "wall_bucket": None,
            "business_bucket": None, "same_day": None,
        }  # fmt: skip
        if wait.answered_at is not None:
            wall = max(0, int((wait.answered_at - wait.asked_at).total_seconds()))
            business = int(hours.between(wait.asked_at, wait.answered_at).total_seconds())
            row |= {
                "answered_at": _stored(connection, wait.answered_at),
                "answered_by": answerers[wait.answered_at],
                "wall_seconds": wall, "business_seconds": business,
                "wall_bucket": bucket(wall), "business_bucket": bucket(business),
                "same_day": wait.answered_at.astimezone(hours.zone).date() == day,
            }  # fmt: skip
        rows.append(row)
    if rows:
        connection.execute(_REPLY_WAITS.insert(), rows)


_REPLY_WAITS = sa.table(
    "reply_waits",
    *(sa.column(name, sa.Uuid()) for name in ("id", "chain_id", "group_id", "dealer_id",
                                              "owner_member_id", "message_id", "answered_by")),
    *(sa.column(name) for name in ("asked_day", "first", "wall_seconds", "business_seconds",
                                   "wall_bucket", "business_bucket", "same_day")),
    *(sa.column(name, sa.DateTime()) for name in ("asked_at", "answered_at")),
)  # fmt: skip


def _count_seats(connection, chains) -> None:
    taken: Counter = Counter()
    rows = connection.execute(
        sa.text("""
            SELECT g.chain_id, g.dealer_id, g.owner_member_id, s.added_at
            FROM group_members s JOIN delivery_groups g ON g.id = s.group_id
        """)
        .columns(
            *(sa.column(name, sa.Uuid()) for name in ("chain", "dealer", "owner")),
            sa.column("added_at", sa.DateTime()),
        )
        .execution_options(yield_per=BATCH)
    )
    for chain_id, dealer_id, owner_id, added in rows:
        day = _aware(added).astimezone(chains[chain_id].zone).date()
        for grain, start in (("day", day), ("month", day.replace(day=1))):
            taken[(chain_id, grain, start, dealer_id, owner_id)] += 1
    keys = ("chain_id", "grain", "day", "dealer_id", "owner_member_id")
    seats = sa.table("seat_days", *(_typed(name) for name in (*keys, "seats")))
    entries = [dict(zip(keys, key, strict=True), seats=n) for key, n in taken.items()]
    for start in range(0, len(entries), BATCH):
        connection.execute(seats.insert(), entries[start : start + BATCH])


def _typed(name: str) -> sa.ColumnClause:
    """A column of the new tables, typed as its values must be bound."""
    if name.endswith("_id"):
        return sa.column(name, sa.Uuid())
    return sa.column(name, sa.Date()) if name == "day" else sa.column(name)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stored(connection, moment):
    # SQLite keeps UTC naive (as the models' UTCDateTime does).
    return moment.replace(tzinfo=None) if connection.dialect.name == "sqlite" else moment


def downgrade() -> None:
    op.drop_table("seat_days")
    op.drop_table("writer_days")
    op.drop_table("reply_waits")
