"""portal indexes

Revision ID: e7c9e1a3ef07
Revises: e6b8d0f2de06
Create Date: 2026-12-02 06:06:00

The groups a member owns, found by index: the portal's orders for a member who is not their
dealer's administrator are those of the customers they own or whose group they own or sit in,
each part of that answered by an index (bench/portal.py, docs/PERFORMANCE.md "The portal").
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e7c9e1a3ef07"
down_revision: str | None = "e6b8d0f2de06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_groups", recreate="never") as batch_op:
        batch_op.create_index("ix_delivery_groups_owner_member_id", ["owner_member_id"])


def downgrade() -> None:
    with op.batch_alter_table("delivery_groups", recreate="never") as batch_op:
        batch_op.drop_index("ix_delivery_groups_owner_member_id")
