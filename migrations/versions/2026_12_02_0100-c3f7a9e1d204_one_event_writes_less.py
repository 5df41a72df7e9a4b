"""one progress event writes less

Revision ID: c3f7a9e1d204
Revises: b2e6f8d3ca02
Create Date: 2026-12-02 01:00:00

A factory's webhook delivery wrote a progress_reports row (its webhook-id, unique per factory,
and its answer) beside the timeline entries that say the same. The claim and the answer now
live on the delivery's first timeline entry, under a partial unique index on (actor,
webhook_id): the table goes, its rows are moved onto their entries. `milestone.changed` outbox
rows are no longer written (nothing reads them); those still pending are marked done.

Each report is matched with the first entry its delivery wrote: by the factory (the entry's
actor), the first event's work item, milestone and lateness (the answer's first result), the
earliest such entry not older than the report (the report was written just before its
entries, in their transaction) and not already matched, taking reports oldest first.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f7a9e1d204"
down_revision: str | None = "b2e6f8d3ca02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMS = sa.text("webhook_id IS NOT NULL")

entries = sa.table(
    "timeline_entries",
    sa.column("id", sa.Uuid()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("order_id", sa.Uuid()),
    sa.column("work_item_id", sa.Uuid()),
    sa.column("milestone", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("late", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("webhook_id", sa.String()),
    sa.column("answer", sa.JSON()),
)
work_items = sa.table("work_items", sa.column("id", sa.Uuid()), sa.column("order_id", sa.Uuid()))
reports = sa.table(
    "progress_reports",
    sa.column("id", sa.Uuid()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("factory_id", sa.Uuid()),
    sa.column("webhook_id", sa.String()),
    sa.column("events", sa.Integer()),
    sa.column("answer", sa.JSON()),
    sa.column("received_at", sa.DateTime(timezone=True)),
)
outbox = sa.table(
    "outbox_events",
    sa.column("topic", sa.String()),
    sa.column("done_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("answer", sa.JSON(), nullable=True))
    _claims_onto_entries(op.get_bind())
    op.create_index(
        "uq_timeline_entries_webhook_id",
        "timeline_entries",
        ["actor", "webhook_id"],
        unique=True,
        sqlite_where=CLAIMS,
        postgresql_where=CLAIMS,
    )
    op.drop_table("progress_reports")
    op.get_bind().execute(
        outbox.update()
        .where(outbox.c.topic == "milestone.changed", outbox.c.done_at.is_(None))
        .values(done_at=sa.func.now())
    )


def _claims_onto_entries(connection) -> None:
    rows = connection.execute(
        sa.select(reports.c.factory_id, reports.c.webhook_id, reports.c.answer,
                  reports.c.received_at).order_by(reports.c.received_at, reports.c.id)
    ).all()  # fmt: skip
    for row in rows:
        first = row.answer["results"][0]
        item_id = uuid.UUID(first["work_item"])
        entry_id = connection.scalar(
            sa.select(entries.c.id)
            .where(
                # The order's index finds the entries; the work item names the order.
                entries.c.order_id
                == sa.select(work_items.c.order_id)
                .where(work_items.c.id == item_id)
                .scalar_subquery(),
                entries.c.work_item_id == item_id,
                entries.c.actor == f"factory:{row.factory_id}",
                entries.c.milestone == first["milestone"],
                entries.c.late == (not first["moved"]),
                entries.c.created_at >= row.received_at,
                entries.c.webhook_id.is_(None),
            )
            .order_by(entries.c.created_at, entries.c.id)
            .limit(1)
        )
        if entry_id is not None:
            connection.execute(
                entries.update()
                .where(entries.c.id == entry_id)
                .values(webhook_id=row.webhook_id, answer=row.answer)
            )


def downgrade() -> None:
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
    connection = op.get_bind()
    claims = connection.execute(
        sa.select(entries.c.id, entries.c.chain_id, entries.c.actor, entries.c.webhook_id,
                  entries.c.answer, entries.c.created_at).where(entries.c.webhook_id.is_not(None))
    ).all()  # fmt: skip
    if claims:
        connection.execute(
            reports.insert(),
            [
                {
                    "id": claim.id,
                    "chain_id": claim.chain_id,
                    "factory_id": uuid.UUID(claim.actor.removeprefix("factory:")),
                    "webhook_id": claim.webhook_id,
                    "events": claim.answer["accepted"],
                    "answer": claim.answer,
                    "received_at": claim.created_at,
                }
                for claim in claims
            ],
        )
    op.drop_index(
        "uq_timeline_entries_webhook_id",
        table_name="timeline_entries",
        sqlite_where=CLAIMS,
        postgresql_where=CLAIMS,
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_column("answer")
        batch_op.drop_column("webhook_id")
