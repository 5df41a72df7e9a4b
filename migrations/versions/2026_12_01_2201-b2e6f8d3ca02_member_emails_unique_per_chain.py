"""member e-mails unique per chain; portal sessions ended on sign-out

Revision ID: b2e6f8d3ca02
Revises: a1d5e7c2b901
Create Date: 2026-12-01 22:00:00

A live member's e-mail was unique across every chain, so one chain could learn (and reserve)
the addresses of another's people. It is now unique within a chain. Each member also gets a
session generation: signing out raises it, and portal sessions of an older generation end.

Downgrade: the global index cannot come back while one address belongs to live members of
several chains; the downgrade stops and says so rather than drop or rewrite anyone's address.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2e6f8d3ca02"
down_revision: str | None = "a1d5e7c2b901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("removed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_index("uq_members_email", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "uq_members_chain_id_email",
            ["chain_id", "email"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade() -> None:
    members = sa.table("members", sa.column("email"), sa.column("removed_at"))
    shared = op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(members.c.email)
            .where(members.c.email.is_not(None), members.c.removed_at.is_(None))
            .group_by(members.c.email)
            .having(sa.func.count() > 1)
            .subquery()
        )
    )
    if shared:
        raise RuntimeError(
            f"{shared} e-mail address(es) belong to live members of several chains; give "
            "them distinct addresses (or remove those members) before downgrading."
        )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("uq_members_chain_id_email", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "uq_members_email", ["email"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        )
        batch_op.drop_column("session_generation")
