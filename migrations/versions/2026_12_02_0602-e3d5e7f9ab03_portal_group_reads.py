"""portal group reads

Revision ID: e3d5e7f9ab03
Revises: e2c4d6e8fa02
Create Date: 2026-12-02 06:02:00

How far each member has read each delivery group (the portal's unread marks).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3d5e7f9ab03"
down_revision: str | None = "e2c4d6e8fa02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_reads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["delivery_groups.id"],
            name=op.f("fk_group_reads_group_id_delivery_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_group_reads_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_reads")),
        sa.UniqueConstraint(
            "member_id", "group_id", name=op.f("uq_group_reads_member_id_group_id")
        ),
    )
    with op.batch_alter_table("group_reads", schema=None) as batch_op:
        batch_op.create_index("ix_group_reads_group_id", ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_group_reads_group_id")
    op.drop_table("group_reads")
