"""customer links

Revision ID: e4f6a8b0bc04
Revises: e3d5e7f9ab03
Create Date: 2026-12-02 06:03:00

The customer's private link: a token, kept only as its SHA-256, that opens one customer's view
until it expires or is revoked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4f6a8b0bc04"
down_revision: str | None = "e3d5e7f9ab03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_member_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_customer_links_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_links_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["members.id"],
            name=op.f("fk_customer_links_created_by_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_links_token_hash")),
    )
    op.create_index(
        "ix_customer_links_customer_id", "customer_links", ["customer_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_customer_links_customer_id", table_name="customer_links")
    op.drop_table("customer_links")
