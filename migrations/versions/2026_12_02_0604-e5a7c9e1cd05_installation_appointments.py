"""installation appointments

Revision ID: e5a7c9e1cd05
Revises: e4f6a8b0bc04
Create Date: 2026-12-02 06:04:00

An order's installation appointment, and the indexes the portal's "needs attention" page reads
through: the day's installations, the work items due by their ETA, the first customer message
after a read mark, and the recently flagged messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5a7c9e1cd05"
down_revision: str | None = "e4f6a8b0bc04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", recreate="never") as batch:
        batch.add_column(sa.Column("installation_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_orders_installation_at", "orders", ["chain_id", "installation_at"], unique=False
    )
    op.create_index("ix_work_items_eta", "work_items", ["chain_id", "eta"], unique=False)
    op.create_index(
        "ix_messages_group_sender", "messages", ["group_id", "sender", "id"], unique=False
    )
    op.create_index(
        "ix_messages_flagged",
        "messages",
        ["chain_id", "created_at"],
        unique=False,
        sqlite_where=sa.text("flagged = 1"),
        postgresql_where=sa.text("flagged"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_flagged", table_name="messages")
    op.drop_index("ix_messages_group_sender", table_name="messages")
    op.drop_index("ix_work_items_eta", table_name="work_items")
    op.drop_index("ix_orders_installation_at", table_name="orders")
    # Dropped in place (SQLite 3.35+): rebuilding the table would delete the orders that work
    # items and timelines refer to.
    with op.batch_alter_table("orders", recreate="never") as batch:
        batch.drop_column("installation_at")
