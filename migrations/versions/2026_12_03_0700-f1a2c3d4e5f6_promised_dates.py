"""the date promised to the customer, for an order and for a work item

Revision ID: f1a2c3d4e5f6
Revises: e8d1f3b5a708
Create Date: 2026-12-03 07:00:00

An order, and a work item of its own, may carry the date promised to the customer; each change
is a timeline entry of kind "promise" with its reason. Existing entries are milestones. A work
item keeps the promise that holds for it (its own, else its order's) with whether it is its
own, so that the items late against their promise are one range of an index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a2c3d4e5f6"
down_revision: str | None = "e8d1f3b5a708"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("orders", "work_items"):
        with op.batch_alter_table(table, recreate="never") as batch_op:
            batch_op.add_column(sa.Column("promised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("work_items", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("promise_own", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The promises of items not yet with the customer (delivered or later).
    open_items = sa.text(
        "milestone IN ('received', 'designed', 'in_production', 'quality_checked', 'shipped')"
    )
    op.create_index(
        "ix_work_items_open_promise",
        "work_items",
        ["chain_id", "promised_at"],
        sqlite_where=open_items,
        postgresql_where=open_items,
    )
    with op.batch_alter_table("timeline_entries", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="milestone")
        )
        batch_op.add_column(sa.Column("promised_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timeline_entries", recreate="never") as batch_op:
        batch_op.drop_column("promised_at")
        batch_op.drop_column("kind")
    op.drop_index("ix_work_items_open_promise", table_name="work_items")
    with op.batch_alter_table("work_items", recreate="never") as batch_op:
        batch_op.drop_column("promise_own")
    for table in ("work_items", "orders"):
        with op.batch_alter_table(table, recreate="never") as batch_op:
            batch_op.drop_column("promised_at")
