"""attachments

Revision ID: e6b8d0f2de06
Revises: e5a7c9e1cd05
Create Date: 2026-12-02 06:05:00

Photos and PDFs in a group's messages: one row each, its file kept on disk under its id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6b8d0f2de06"
down_revision: str | None = "e5a7c9e1cd05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_member_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'pdf')", name=op.f("ck_attachments_kind")),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_attachments_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["delivery_groups.id"],
            name=op.f("fk_attachments_group_id_delivery_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_member_id"],
            ["members.id"],
            name=op.f("fk_attachments_uploaded_by_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"], unique=False)
    op.create_index("ix_attachments_group_id", "attachments", ["group_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachments_group_id", table_name="attachments")
    op.drop_index("ix_attachments_message_id", table_name="attachments")
    op.drop_table("attachments")
