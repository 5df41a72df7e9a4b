"""a chain's business hours

Revision ID: f2b3d4e5f6a7
Revises: f1a2c3d4e5f6
Create Date: 2026-12-03 07:01:00

Reply times are reported in business hours as well as in wall-clock time; each chain has its
hours, local, every day (09:00-21:00 unless the brand says otherwise).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b3d4e5f6a7"
down_revision: str | None = "f1a2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chains", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("business_hours_start", sa.String(5), nullable=False, server_default="09:00")
        )
        batch_op.add_column(
            sa.Column("business_hours_end", sa.String(5), nullable=False, server_default="21:00")
        )


def downgrade() -> None:
    with op.batch_alter_table("chains", recreate="never") as batch_op:
        batch_op.drop_column("business_hours_end")
        batch_op.drop_column("business_hours_start")
