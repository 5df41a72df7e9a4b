"""one progress event writes less

Revision ID: c3f7a9e1d204
Revises: b2e6f8d3ca02
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

revision: str = "c3f7a9e1d204"
down_revision: str | None = "b2e6f8d3ca02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
