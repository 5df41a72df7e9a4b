"""deliveries: a lease of their own, held reasons

Revision ID: a1d5e7c2b901
Revises: 6e185779e243
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d5e7c2b901"
down_revision: str | None = "6e185779e243"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWED = "state IN ('pending', 'sending')"
HELD = "held_for IS NULL OR held_for IN ('quiet_hours', 'coalescing', 'rate_limit', 'backoff')"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_token", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("held_for", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f("ck_deliveries_held_for"), sa.text(HELD))
        batch_op.drop_index(
            "ix_deliveries_channel_due",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.drop_index(
            "ix_deliveries_sending",
            sqlite_where=sa.text("state = 'sending'"),
            postgresql_where=sa.text("state = 'sending'"),
        )
        batch_op.create_index(
            "ix_deliveries_owed",
            ["channel_id", "message_id"],
            unique=False,
            sqlite_where=sa.text(OWED),
            postgresql_where=sa.text(OWED),
        )
        batch_op.create_index(
            "ix_deliveries_sending",
            ["lease_until"],
            unique=False,
            sqlite_where=sa.text("state = 'sending'"),
            postgresql_where=sa.text("state = 'sending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_deliveries_sending",
            sqlite_where=sa.text("state = 'sending'"),
            postgresql_where=sa.text("state = 'sending'"),
        )
        batch_op.drop_index(
            "ix_deliveries_owed", sqlite_where=sa.text(OWED), postgresql_where=sa.text(OWED)
        )
        batch_op.create_index(
            "ix_deliveries_sending",
            ["channel_id"],
            unique=False,
            sqlite_where=sa.text("state = 'sending'"),
            postgresql_where=sa.text("state = 'sending'"),
        )
        batch_op.create_index(
            "ix_deliveries_channel_due",
            ["channel_id", "due_at"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.drop_constraint("ck_deliveries_held_for", type_="check")
        batch_op.drop_column("held_for")
        batch_op.drop_column("lease_token")
        batch_op.drop_column("lease_until")
