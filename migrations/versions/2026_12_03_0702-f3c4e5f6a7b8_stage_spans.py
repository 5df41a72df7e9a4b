"""the stages work items went through, and their daily rollup, for the delivery report

Revision ID: f3c4e5f6a7b8
Revises: f2b3d4e5f6a7
Create Date: 2026-12-03 07:02:00

Each step that moves a work item now writes the stage it ended (stage_spans); a job rolls
them up by day and by month (stage_days). The stages of the history are filled in from the
timeline: each item's milestone entries in order, the first starting when the item was made.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f3c4e5f6a7b8"
down_revision: str | None = "f2b3d4e5f6a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "stage_spans",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("chain_id", sa.Uuid(), sa.ForeignKey("chains.id"), nullable=False),
        sa.Column("factory_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("work_item_id", sa.Uuid(), sa.ForeignKey("work_items.id"), nullable=False),
        sa.Column("from_milestone", sa.String(32), nullable=False),
        sa.Column("to_milestone", sa.String(32), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.Column("promise_kept", sa.Boolean(), nullable=True),
        sa.Column("rolled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("seconds >= 0", name="ck_stage_spans_seconds"),
    )
    op.create_index(
        "ix_stage_spans_factory_stage",
        "stage_spans",
        ["chain_id", "factory_id", "from_milestone", "to_milestone", "ended_at"],
    )
    op.create_index(
        "ix_stage_spans_dealer_id", "stage_spans", ["chain_id", "dealer_id", "ended_at"]
    )
    op.create_index(
        "ix_stage_spans_missed",
        "stage_spans",
        ["chain_id", "ended_at"],
        sqlite_where=sa.text("NOT promise_kept"),
        postgresql_where=sa.text("NOT promise_kept"),
    )
    op.create_index(
        "ix_stage_spans_unrolled",
        "stage_spans",
        ["chain_id", "ended_at"],
        sqlite_where=sa.text("NOT rolled"),
        postgresql_where=sa.text("NOT rolled"),
    )
    op.create_table(
        "stage_days",
        sa.Column("chain_id", sa.Uuid(), sa.ForeignKey("chains.id"), primary_key=True),
        sa.Column("grain", sa.String(5), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("factory_id", sa.Uuid(), sa.ForeignKey("organisations.id"), primary_key=True),
        sa.Column("from_milestone", sa.String(32), primary_key=True),
        sa.Column("to_milestone", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seconds_max", sa.BigInteger(), nullable=False),
        sa.Column(
            "histogram", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("promised", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_timeline_entries_late",
        "timeline_entries",
        ["chain_id", "created_at"],
        sqlite_where=sa.text("late"),
        postgresql_where=sa.text("late"),
    )
    _fill_from_the_timeline()


def _fill_from_the_timeline() -> None:
    connection = op.get_bind()
    ids = ("work_item_id", "chain_id", "factory_id", "dealer_id")
    rows = connection.execute(
        sa.text("""
            SELECT t.work_item_id, w.chain_id, w.factory_id, o.dealer_id, t.milestone,
                   t.occurred_at, w.created_at
            FROM timeline_entries t
            JOIN work_items w ON w.id = t.work_item_id
            JOIN orders o ON o.id = w.order_id
            WHERE t.work_item_id IS NOT NULL AND NOT t.late AND t.kind = 'milestone'
            ORDER BY t.work_item_id, t.occurred_at, t.id
        """)
        .columns(
            *(sa.column(name, sa.Uuid()) for name in ids),
            sa.column("milestone", sa.String()),
            sa.column("occurred_at", sa.DateTime()),
            sa.column("created_at", sa.DateTime()),
        )
        .execution_options(yield_per=BATCH)
    )
    spans = sa.table(
        "stage_spans",
        *(sa.column(name, sa.Uuid()) for name in ("id", *ids)),
        sa.column("from_milestone", sa.String()),
        sa.column("to_milestone", sa.String()),
        sa.column("started_at", sa.DateTime()),
        sa.column("ended_at", sa.DateTime()),
        sa.column("seconds", sa.BigInteger()),
    )
    # SQLite keeps UTC naive (as the models' UTCDateTime does) and hands it back so.
    sqlite = connection.dialect.name == "sqlite"
    stored = (lambda moment: moment.replace(tzinfo=None)) if sqlite else (lambda moment: moment)
    batch, item, left, left_at = [], None, None, None
    for work_item_id, chain_id, factory_id, dealer_id, milestone, occurred, created in rows:
        occurred, created = _aware(occurred), _aware(created)
        if work_item_id != item:
            item, left, left_at = work_item_id, "received", created
        batch.append({
            "id": uuid.uuid4(), "work_item_id": work_item_id, "chain_id": chain_id,
            "factory_id": factory_id, "dealer_id": dealer_id, "from_milestone": left,
            "to_milestone": milestone, "started_at": stored(min(left_at, occurred)),
            "ended_at": stored(occurred),
            "seconds": max(0, int((occurred - left_at).total_seconds())),
        })  # fmt: skip
        left, left_at = milestone, occurred
        if len(batch) >= BATCH:
            connection.execute(spans.insert(), batch)
            batch = []
    if batch:
        connection.execute(spans.insert(), batch)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    op.drop_index("ix_timeline_entries_late", table_name="timeline_entries")
    op.drop_table("stage_days")
    op.drop_table("stage_spans")
