from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, new_id, utcnow


class OrganisationKind(StrEnum):
    BRAND = "brand"
    DEALER = "dealer"
    FACTORY = "factory"


class Language(StrEnum):
    """The portal's languages, as BCP 47 tags."""

    ZH_CN = "zh-CN"
    EN = "en"


class MemberRole(StrEnum):
    ADMIN = "admin"
    SERVICE_SPECIALIST = "service_specialist"
    DESIGNER = "designer"
    INSTALLER = "installer"
    SALES = "sales"
    COORDINATOR = "coordinator"


def one_of(column: str, values) -> str:
    """A CHECK constraint's condition: the column holds one of these values (or enum's)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Chain(Base):
    __tablename__ = "chains"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # What the system writes into groups and chat tools is in this language; the portal
    # speaks it to a member who chose none and whose browser names neither of its languages
    # (service.system_texts.LANGUAGES).
    language: Mapped[str] = mapped_column(String(8), default="zh-CN", server_default="zh-CN")
    # Pushes to customer-facing channels wait from start to end (local "HH:MM"); NULL: never.
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5), default="22:00")
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5), default="08:00")
    # The hours reply times are counted in (service.reports.business_time), local "HH:MM",
    # every day.
    business_hours_start: Mapped[str] = mapped_column(
        String(5), default="09:00", server_default="09:00"
    )
    business_hours_end: Mapped[str] = mapped_column(
        String(5), default="21:00", server_default="21:00"
    )
    # Broadcasts a customer may receive a month; NULL: as many as the month has days.
    broadcast_quota: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A brand's API key. Only its SHA-256 is kept: the key is random and long, so a fast
    hash is as safe as a slow one and keeps authentication off the hot path."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(one_of("kind", OrganisationKind), name="kind"),
        # custom_id is the importer's key: unique among the organisations still in the chain.
        Index(
            "uq_organisations_chain_id_custom_id",
            "chain_id",
            "custom_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("ix_organisations_chain_id_kind", "chain_id", "kind", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    custom_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    groups: Mapped[list[DirectoryGroup]] = relationship(
        secondary="organisation_groups", order_by="DirectoryGroup.path", viewonly=True
    )


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(one_of("role", MemberRole), name="role"),
        Index("ix_members_organisation_id", "organisation_id", "id"),
        Index("ix_members_chain_id", "chain_id", "id"),
        # The e-mail is the portal login: one live member per address in a chain. Not across
        # chains: one chain must not learn, or reserve, the addresses of another's people.
        Index(
            "uq_members_chain_id_email",
            "chain_id",
            "email",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        # Sign-in by mobile looks a number up across chains, as by e-mail.
        Index("ix_members_mobile", "mobile"),
        Index("ix_members_email", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    # E.164, stored whole; masked on the way out for anyone outside the organisation.
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # argon2 hash for portal login; None until a password is set.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Portal sessions carry the generation they began in; signing out raises it, ending them all.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The portal's language this member chose; None: as their browser asks.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class PasswordLink(Base):
    """A one-time, expiring link where a member sets their portal password. The token is
    shown once; only its SHA-256 is kept (random and long, like an API key)."""

    __tablename__ = "password_links"
    __table_args__ = (Index("ix_password_links_member_id", "member_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who made it: "api", "cli" or "member:<id>".
    made_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("kind IN ('dealer', 'factory')", name="kind"),
        Index("ix_invitations_chain_id", "chain_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # The code is shown once; only its hash is kept, like an API key.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    group_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))


class WebhookSecret(Base):
    """A factory's webhook signing secret. Kept in full: verifying an HMAC needs it."""

    __tablename__ = "webhook_secrets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None while current; set to rotation time + grace period when replaced.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DirectoryGroup(Base):
    """A node of the chain's directory tree. `path` ("East/Shanghai/Pudong") is kept
    materialised so that finding a node by path and selecting a subtree are one query."""

    __tablename__ = "directory_groups"
    __table_args__ = (UniqueConstraint("chain_id", "path"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directory_groups.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationGroup(Base):
    __tablename__ = "organisation_groups"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class VisibilityRule(Base):
    """Organisations in viewer_group (or below it) see the members of visible_group (or below)."""

    __tablename__ = "visibility_rules"
    __table_args__ = (UniqueConstraint("viewer_group_id", "visible_group_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"), index=True)
    viewer_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_groups.id", ondelete="CASCADE")
    )
    visible_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_groups.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Import(Base):
    """One bulk import and its outcome, kept so its per-row report can be read again."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_chain_id", "chain_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
