"""create the chain and its shared directory

Revision ID: 193f28b54f59
Revises:
Create Date: 2026-11-23 16:16:47.632875
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "193f28b54f59"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "chains",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chains")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_api_keys_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_chain_id"), ["chain_id"], unique=False)

    op.create_table(
        "directory_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_directory_groups_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["directory_groups.id"],
            name=op.f("fk_directory_groups_parent_id_directory_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_groups")),
        sa.UniqueConstraint("chain_id", "path", name=op.f("uq_directory_groups_chain_id_path")),
    )
    with op.batch_alter_table("directory_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_groups_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_imports_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.create_index("ix_imports_chain_id", ["chain_id", "id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("custom_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('brand', 'dealer', 'factory')", name=op.f("ck_organisations_kind")
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_organisations_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisations_chain_id_kind", ["chain_id", "kind", "id"], unique=False
        )
        batch_op.create_index(
            "uq_organisations_chain_id_custom_id",
            ["chain_id", "custom_id"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("kind IN ('dealer', 'factory')", name=op.f("ck_invitations_kind")),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_invitations_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_invitations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_chain_id", ["chain_id", "id"], unique=False)

    op.create_table(
        "members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'service_specialist', 'designer', 'installer', 'sales',"
            " 'coordinator')",
            name=op.f("ck_members_role"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_members_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_members_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_chain_id", ["chain_id", "id"], unique=False)
        batch_op.create_index(
            "uq_members_email",
            ["email"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
        batch_op.create_index("ix_members_organisation_id", ["organisation_id", "id"], unique=False)

    op.create_table(
        "organisation_groups",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["directory_groups.id"],
            name=op.f("fk_organisation_groups_group_id_directory_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_groups_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "group_id", name=op.f("pk_organisation_groups")),
    )
    with op.batch_alter_table("organisation_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_groups_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "visibility_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_group_id", sa.Uuid(), nullable=False),
        sa.Column("visible_group_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_visibility_rules_chain_id_chains")
        ),
        sa.ForeignKeyConstraint(
            ["viewer_group_id"],
            ["directory_groups.id"],
            name=op.f("fk_visibility_rules_viewer_group_id_directory_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visible_group_id"],
            ["directory_groups.id"],
            name=op.f("fk_visibility_rules_visible_group_id_directory_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visibility_rules")),
        sa.UniqueConstraint(
            "viewer_group_id",
            "visible_group_id",
            name=op.f("uq_visibility_rules_viewer_group_id_visible_group_id"),
        ),
    )
    with op.batch_alter_table("visibility_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visibility_rules_chain_id"), ["chain_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_visibility_rules_visible_group_id"), ["visible_group_id"], unique=False
        )

    op.create_table(
        "webhook_secrets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_secrets_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secrets")),
    )
    with op.batch_alter_table("webhook_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_secrets_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("webhook_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_secrets_organisation_id"))

    op.drop_table("webhook_secrets")
    with op.batch_alter_table("visibility_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visibility_rules_visible_group_id"))
        batch_op.drop_index(batch_op.f("ix_visibility_rules_chain_id"))

    op.drop_table("visibility_rules")
    with op.batch_alter_table("organisation_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_groups_group_id"))

    op.drop_table("organisation_groups")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_organisation_id")
        batch_op.drop_index(
            "uq_members_email",
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
        batch_op.drop_index("ix_members_chain_id")

    op.drop_table("members")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_chain_id")

    op.drop_table("invitations")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_organisations_chain_id_custom_id",
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
        batch_op.drop_index("ix_organisations_chain_id_kind")

    op.drop_table("organisations")
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_index("ix_imports_chain_id")

    op.drop_table("imports")
    with op.batch_alter_table("directory_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_groups_parent_id"))

    op.drop_table("directory_groups")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_chain_id"))

    op.drop_table("api_keys")
    op.drop_table("chains")
