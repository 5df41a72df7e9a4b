"""deliveries: a lease of their own, held reasons

Revision ID: a1d5e7c2b901
Revises: 6e185779e243
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "a1d5e7c2b901"
down_revision: str | None = "6e185779e243"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
