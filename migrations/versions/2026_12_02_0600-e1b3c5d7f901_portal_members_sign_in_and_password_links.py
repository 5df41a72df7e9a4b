"""portal members sign in and password links

Revision ID: e1b3c5d7f901
Revises: d4a8b2f6e315
Create Date: 2026-12-02 06:00:00

Nothing yet: a place in the chain of revisions kept for this part of the portal.
"""

from collections.abc import Sequence

revision: str = "e1b3c5d7f901"
down_revision: str | None = "d4a8b2f6e315"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
