"""a message is its own outbox entry

Revision ID: d4a8b2f6e315
Revises: c3f7a9e1d204
Create Date: 2026-12-02 05:00:00

Every message was written with a `message.posted` outbox row saying "this message is to be
put on its group's channels", which the message says by existing. The message now carries
that itself: `planned_at` is NULL until the planner has written its deliveries, and a partial
index holds the messages still to plan. Messages whose row is pending are left to plan, the
others are planned (at the time they were written); the rows go. Downgrade writes a pending
row again for every message not yet planned.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a8b2f6e315"
down_revision: str | None = "c3f7a9e1d204"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPLANNED = sa.text("planned_at IS NULL")
TOPIC = "message.posted"

messages = sa.table(
    "messages",
    sa.column("id", sa.Uuid()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("group_id", sa.Uuid()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("planned_at", sa.DateTime(timezone=True)),
)
outbox = sa.table(
    "outbox_events",
    sa.column("id", sa.Uuid()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("topic", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer()),
    sa.column("done_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    # Planned (when they were written: the time matters to no one) unless their row is pending.
    pending = [
        uuid.UUID(payload["message_id"])
        for (payload,) in bind.execute(
            sa.select(outbox.c.payload).where(outbox.c.topic == TOPIC, outbox.c.done_at.is_(None))
        )
        if isinstance(payload, dict) and "message_id" in payload
    ]
    bind.execute(sa.update(messages).values(planned_at=messages.c.created_at))
    for start in range(0, len(pending), 500):
        bind.execute(
            sa.update(messages)
            .where(messages.c.id.in_(pending[start : start + 500]))
            .values(planned_at=None)
        )
    bind.execute(sa.delete(outbox).where(outbox.c.topic == TOPIC))
    op.create_index(
        "ix_messages_unplanned",
        "messages",
        ["id"],
        sqlite_where=UNPLANNED,
        postgresql_where=UNPLANNED,
    )


def downgrade() -> None:
    bind = op.get_bind()
    unplanned = bind.execute(
        sa.select(messages.c.id, messages.c.chain_id, messages.c.group_id, messages.c.created_at)
        .where(messages.c.planned_at.is_(None))
        .order_by(messages.c.id)
    ).all()
    if unplanned:
        bind.execute(
            sa.insert(outbox),
            [
                {
                    "id": row.id,  # time-ordered like the message: drained in its order
                    "chain_id": row.chain_id,
                    "topic": TOPIC,
                    "payload": {"message_id": str(row.id), "group_id": str(row.group_id)},
                    "created_at": row.created_at,
                    "attempts": 0,
                    "done_at": None,
                }
                for row in unplanned
            ],
        )
    op.drop_index("ix_messages_unplanned", table_name="messages")
    # Dropped in place (SQLite 3.35+): rebuilding the table would delete the messages that
    # deliveries refer to.
    with op.batch_alter_table("messages", recreate="never") as batch:
        batch.drop_column("planned_at")
