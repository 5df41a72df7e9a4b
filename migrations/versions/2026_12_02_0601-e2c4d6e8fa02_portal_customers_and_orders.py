"""portal customers and orders

Revision ID: e2c4d6e8fa02
Revises: e1b3c5d7f901
Create Date: 2026-12-02 06:01:00

Nothing yet: a place in the chain of revisions kept for this part of the portal.
"""

from collections.abc import Sequence

revision: str = "e2c4d6e8fa02"
down_revision: str | None = "e1b3c5d7f901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
