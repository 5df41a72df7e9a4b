"""portal members sign in and password links

Revision ID: e1b3c5d7f901
Revises: d4a8b2f6e315
Create Date: 2026-12-02 06:00:00

Members sign in with their e-mail or their mobile: both are looked up across chains, so both
get an index of their own. A member may choose the portal's language, and a chain has one for
those who did not (Simplified Chinese unless the brand says otherwise). Set-password links:
one-time and expiring, kept by the hash of their token.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1b3c5d7f901"
down_revision: str | None = "d4a8b2f6e315"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, not batch mode: on SQLite a batch rebuild of chains or members would drop
    # tables that others refer to. The languages are checked by the domain.
    op.add_column(
        "chains", sa.Column("language", sa.String(length=8), server_default="zh-CN", nullable=False)
    )
    op.add_column("members", sa.Column("language", sa.String(length=8), nullable=True))
    op.create_index("ix_members_mobile", "members", ["mobile"])
    op.create_index("ix_members_email", "members", ["email"])
    op.create_table(
        "password_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_password_links_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_password_links_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_links_token_hash")),
    )
    op.create_index("ix_password_links_chain_id", "password_links", ["chain_id"])
    op.create_index("ix_password_links_member_id", "password_links", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_password_links_member_id", table_name="password_links")
    op.drop_index("ix_password_links_chain_id", table_name="password_links")
    op.drop_table("password_links")
    op.drop_index("ix_members_email", table_name="members")
    op.drop_index("ix_members_mobile", table_name="members")
    op.drop_column("members", "language")
    op.drop_column("chains", "language")
