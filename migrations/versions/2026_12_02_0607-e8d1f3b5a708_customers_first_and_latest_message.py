"""the customer's first and latest message on their group

Revision ID: e8d1f3b5a708
Revises: e7c9e1a3ef07
Create Date: 2026-12-02 06:07:00

The attention page asks of every group a reader may open whether the customer wrote after the
reader's mark, and since when they wait: with the customer's first and latest message kept on
the group, that is a comparison per group instead of a probe of the messages' index per group
(bench/portal.py, docs/PERFORMANCE.md "The portal"). Existing groups are filled from their
messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8d1f3b5a708"
down_revision: str | None = "e7c9e1a3ef07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("first_customer_message_id", "last_customer_message_id")


def _customers(order: str) -> str:
    # ORDER BY … LIMIT 1 rather than min()/max(): PostgreSQL has no min() of a uuid.
    return (
        "(SELECT m.id FROM messages AS m WHERE m.group_id = delivery_groups.id"
        f" AND m.sender = 'customer' ORDER BY m.id {order} LIMIT 1)"
    )


def upgrade() -> None:
    with op.batch_alter_table("delivery_groups", recreate="never") as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE delivery_groups SET"
        f" first_customer_message_id = {_customers('ASC')},"
        f" last_customer_message_id = {_customers('DESC')}"
    )


def downgrade() -> None:
    with op.batch_alter_table("delivery_groups", recreate="never") as batch_op:
        for column in COLUMNS:
            batch_op.drop_column(column)
