"""record factories' progress reports

Revision ID: 1dc3f6368637
Revises: 779e77368dc4
Create Date: 2026-11-23 18:26:16.157381
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1dc3f6368637"
down_revision: str | None = "779e77368dc4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("factory_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_progress_reports_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["factory_id"],
            ["organisations.id"],
            name=op.f("fk_progress_reports_factory_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
        sa.UniqueConstraint(
            "factory_id", "webhook_id", name=op.f("uq_progress_reports_factory_id_webhook_id")
        ),
    )


def downgrade() -> None:

    op.drop_table("progress_reports")
