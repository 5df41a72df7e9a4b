"""portal group reads

Revision ID: e3d5e7f9ab03
Revises: e2c4d6e8fa02
Create Date: 2026-12-02 06:02:00

Nothing yet: a place in the chain of revisions kept for this part of the portal.
"""

from collections.abc import Sequence

revision: str = "e3d5e7f9ab03"
down_revision: str | None = "e2c4d6e8fa02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
