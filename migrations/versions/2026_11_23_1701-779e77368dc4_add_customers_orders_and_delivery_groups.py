"""add customers, orders and delivery groups

Revision ID: 779e77368dc4
Revises: 193f28b54f59
Create Date: 2026-11-23 17:01:31.607364
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import uuid6
from alembic import op

revision: str = "779e77368dc4"
down_revision: str | None = "193f28b54f59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The milestones as of this revision (a snapshot: migrations never import the app).
MILESTONE_CHECK = (
    "milestone IN ('received', 'designed', 'in_production', 'quality_checked', 'shipped',"
    " 'delivered', 'installed', 'completed')"
)


def upgrade() -> None:

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_audit_entries_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_chain_id", ["chain_id", "id"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_outbox_events_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("done_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL"),
        )

    op.create_table(
        "group_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("directory_group_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_pattern", sa.String(length=200), nullable=False),
        sa.Column("welcome_message", sa.Text(), nullable=False),
        sa.Column("member_roles", sa.JSON(), nullable=False),
        sa.Column("rename_locked", sa.Boolean(), nullable=False),
        sa.Column("auto_replies", sa.JSON(), nullable=False),
        sa.Column("blocked_words", sa.JSON(), nullable=False),
        sa.Column("contact_action", sa.String(length=8), nullable=False),
        sa.Column("member_cap", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "contact_action IN ('block', 'warn', 'allow')",
            name=op.f("ck_group_templates_contact_action"),
        ),
        sa.CheckConstraint(
            "member_cap BETWEEN 2 AND 500", name=op.f("ck_group_templates_member_cap")
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_group_templates_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["directory_group_id"],
            ["directory_groups.id"],
            name=op.f("fk_group_templates_directory_group_id_directory_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_templates")),
        sa.UniqueConstraint(
            "directory_group_id", name=op.f("uq_group_templates_directory_group_id")
        ),
    )
    with op.batch_alter_table("group_templates", schema=None) as batch_op:
        batch_op.create_index("ix_group_templates_chain_id", ["chain_id", "id"], unique=False)
        batch_op.create_index(
            "uq_group_templates_default",
            ["chain_id"],
            unique=True,
            sqlite_where=sa.text("directory_group_id IS NULL"),
            postgresql_where=sa.text("directory_group_id IS NULL"),
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("owner_member_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_customers_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["organisations.id"], name=op.f("fk_customers_dealer_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["owner_member_id"], ["members.id"], name=op.f("fk_customers_owner_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("chain_id", "mobile", name=op.f("uq_customers_chain_id_mobile")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_dealer_id", ["chain_id", "dealer_id", "id"], unique=False
        )
        batch_op.create_index("ix_customers_owner_member_id", ["owner_member_id"], unique=False)

    op.create_table(
        "delivery_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("owner_member_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rename_locked", sa.Boolean(), nullable=False),
        sa.Column("member_cap", sa.Integer(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_delivery_groups_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_delivery_groups_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["organisations.id"],
            name=op.f("fk_delivery_groups_dealer_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_member_id"],
            ["members.id"],
            name=op.f("fk_delivery_groups_owner_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["group_templates.id"],
            name=op.f("fk_delivery_groups_template_id_group_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_groups")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_delivery_groups_customer_id")),
    )
    with op.batch_alter_table("delivery_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_groups_dealer_id", ["chain_id", "dealer_id", "id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            MILESTONE_CHECK,
            name=op.f("ck_orders_milestone"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_orders_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["organisations.id"], name=op.f("fk_orders_dealer_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("chain_id", "reference", name=op.f("uq_orders_chain_id_reference")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_customer_id", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_orders_dealer_id", ["chain_id", "dealer_id", "id"], unique=False)
        batch_op.create_index("ix_orders_milestone", ["chain_id", "milestone", "id"], unique=False)

    op.create_table(
        "group_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('customer', 'owner', 'member')", name=op.f("ck_group_members_role")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["delivery_groups.id"],
            name=op.f("fk_group_members_group_id_delivery_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_group_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_members")),
        sa.UniqueConstraint(
            "group_id", "member_id", name=op.f("uq_group_members_group_id_member_id")
        ),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index("ix_group_members_member_id", ["member_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("sender_member_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("client_message_id", sa.String(length=100), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('text', 'welcome', 'notification', 'auto_reply', 'notice')",
            name=op.f("ck_messages_kind"),
        ),
        sa.CheckConstraint(
            "sender IN ('member', 'customer', 'system')", name=op.f("ck_messages_sender")
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_messages_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["delivery_groups.id"], name=op.f("fk_messages_group_id_delivery_groups")
        ),
        sa.ForeignKeyConstraint(
            ["sender_member_id"], ["members.id"], name=op.f("fk_messages_sender_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_group_id", ["group_id", "id"], unique=False)
        batch_op.create_index(
            "uq_messages_client_message_id",
            ["group_id", "client_message_id"],
            unique=True,
            sqlite_where=sa.text("client_message_id IS NOT NULL"),
            postgresql_where=sa.text("client_message_id IS NOT NULL"),
        )

    op.create_table(
        "work_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("factory_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("factory_reference", sa.String(length=100), nullable=True),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("milestone_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            MILESTONE_CHECK,
            name=op.f("ck_work_items_milestone"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_work_items_quantity")),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_work_items_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["factory_id"],
            ["organisations.id"],
            name=op.f("fk_work_items_factory_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_work_items_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_items_factory_id", ["chain_id", "factory_id", "order_id"], unique=False
        )
        batch_op.create_index("ix_work_items_order_id", ["order_id", "position"], unique=False)
        batch_op.create_index(
            "uq_work_items_factory_reference",
            ["factory_id", "factory_reference"],
            unique=True,
            sqlite_where=sa.text("factory_reference IS NOT NULL"),
            postgresql_where=sa.text("factory_reference IS NOT NULL"),
        )

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("work_item_id", sa.Uuid(), nullable=True),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            MILESTONE_CHECK,
            name=op.f("ck_timeline_entries_milestone"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_timeline_entries_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_timeline_entries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_timeline_entries_work_item_id_work_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_index("ix_timeline_entries_order_id", ["order_id", "id"], unique=False)

    _give_every_chain_a_default_template()


def _give_every_chain_a_default_template() -> None:
    chains = sa.table("chains", sa.column("id", sa.Uuid))
    templates = sa.table(
        "group_templates",
        *(sa.column(name) for name in ("name", "name_pattern", "welcome_message",
                                       "rename_locked", "contact_action", "member_cap")),
        sa.column("id", sa.Uuid),
        sa.column("chain_id", sa.Uuid),
        sa.column("member_roles", sa.JSON),
        sa.column("auto_replies", sa.JSON),
        sa.column("blocked_words", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = [
        {
            "id": uuid6.uuid7(),
            "chain_id": chain_id,
            "name": "Default",
            "name_pattern": "{customer_name}·{dealer_name}",
            "welcome_message": "Welcome, {customer_name}! {owner_name} of {dealer_name} and the "
            "team who will design, make and install your order are all here. Every step will "
            "be posted in this group as it happens.",
            "member_roles": ["owner", "designer", "installer"],
            "rename_locked": True,
            "auto_replies": [],
            "blocked_words": [],
            "contact_action": "warn",
            "member_cap": 500,
            "created_at": now,
        }
        for chain_id in connection.scalars(sa.select(chains.c.id))
    ]
    if rows:
        op.bulk_insert(templates, rows)


def downgrade() -> None:

    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_entries_order_id")

    op.drop_table("timeline_entries")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_work_items_factory_reference",
            sqlite_where=sa.text("factory_reference IS NOT NULL"),
            postgresql_where=sa.text("factory_reference IS NOT NULL"),
        )
        batch_op.drop_index("ix_work_items_order_id")
        batch_op.drop_index("ix_work_items_factory_id")

    op.drop_table("work_items")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_messages_client_message_id",
            sqlite_where=sa.text("client_message_id IS NOT NULL"),
            postgresql_where=sa.text("client_message_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_messages_group_id")

    op.drop_table("messages")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_member_id")

    op.drop_table("group_members")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_milestone")
        batch_op.drop_index("ix_orders_dealer_id")
        batch_op.drop_index("ix_orders_customer_id")

    op.drop_table("orders")
    with op.batch_alter_table("delivery_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_groups_dealer_id")

    op.drop_table("delivery_groups")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_owner_member_id")
        batch_op.drop_index("ix_customers_dealer_id")

    op.drop_table("customers")
    with op.batch_alter_table("group_templates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_group_templates_default",
            sqlite_where=sa.text("directory_group_id IS NULL"),
            postgresql_where=sa.text("directory_group_id IS NULL"),
        )
        batch_op.drop_index("ix_group_templates_chain_id")

    op.drop_table("group_templates")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_events_pending",
            sqlite_where=sa.text("done_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL"),
        )

    op.drop_table("outbox_events")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_chain_id")

    op.drop_table("audit_entries")
