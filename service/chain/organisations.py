"""Organisations of a chain and the webhook secrets of its factories."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from service.chain.directory_groups import in_subtrees, place_organisation
from service.chain.models import (
    DirectoryGroup,
    Member,
    Organisation,
    OrganisationGroup,
    OrganisationKind,
    WebhookSecret,
)
from service.db import get_in_chain, utcnow
from service.errors import Conflict, Invalid, no_such
from service.pagination import Page, paginate

# After a rotation the previous secret keeps working this long, so a factory can switch over.
SECRET_GRACE = timedelta(hours=24)


def get_organisation(
    session: Session,
    chain_id: uuid.UUID,
    organisation_id: uuid.UUID,
    *,
    field: str | None = None,
) -> Organisation:
    organisation = get_in_chain(session, Organisation, chain_id, organisation_id, field)
    if organisation.removed_at:
        raise no_such("organisation", field=field)
    return organisation


def _check_custom_id_free(
    session: Session, chain_id: uuid.UUID, custom_id: str, *, but: uuid.UUID | None = None
) -> None:
    taken = session.scalar(
        select(Organisation.id).where(
            Organisation.chain_id == chain_id,
            Organisation.custom_id == custom_id,
            Organisation.removed_at.is_(None),
        )
    )
    if taken is not None and taken != but:
        raise Conflict(
            f"Another organisation has custom_id {custom_id!r}.",
            details={"fields": {"custom_id": ["Already used in this chain."]}},
        )


def add_organisation(
    session: Session,
    *,
    chain_id: uuid.UUID,
    kind: str,
    name: str,
    custom_id: str | None = None,
    group_ids: Iterable[uuid.UUID] = (),
) -> tuple[Organisation, str | None]:
    """A dealer or factory joins the chain. Returns (organisation, webhook secret or None);
    a factory's secret is returned here once and never shown again."""
    if kind not in (OrganisationKind.DEALER, OrganisationKind.FACTORY):
        raise Invalid.field("kind", "Must be 'dealer' or 'factory'; a chain has one brand.")
    name = name.strip()
    if not name:
        raise Invalid.field("name", "Must not be blank.")
    if custom_id is not None:
        _check_custom_id_free(session, chain_id, custom_id)
    organisation = Organisation(chain_id=chain_id, kind=kind, name=name, custom_id=custom_id)
    session.add(organisation)
    session.flush()
    place_organisation(
        session, chain_id=chain_id, organisation_id=organisation.id, group_ids=group_ids
    )
    secret = None
    if kind == OrganisationKind.FACTORY:
        secret = _new_webhook_secret(session, organisation.id)
    return organisation, secret


def list_organisations(
    session: Session,
    *,
    chain_id: uuid.UUID,
    kind: str | None = None,
    group_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    stmt = select(Organisation).where(
        Organisation.chain_id == chain_id, Organisation.removed_at.is_(None)
    )
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if group_id:
        # A group lists the organisations placed in it or anywhere below it.
        group = get_in_chain(session, DirectoryGroup, chain_id, group_id, field="group_id")
        stmt = stmt.where(
            Organisation.id.in_(
                select(OrganisationGroup.organisation_id)
                .join(DirectoryGroup, DirectoryGroup.id == OrganisationGroup.group_id)
                .where(DirectoryGroup.chain_id == chain_id, in_subtrees([group.path]))
            )
        )
    return paginate(session, stmt, Organisation.id, cursor=cursor, limit=limit)


def update_organisation(
    session: Session,
    *,
    chain_id: uuid.UUID,
    organisation_id: uuid.UUID,
    name: str | None = None,
    custom_id: str | None = None,
    group_ids: Iterable[uuid.UUID] | None = None,
) -> Organisation:
    organisation = get_organisation(session, chain_id, organisation_id)
    if name is not None:
        if not name.strip():
            raise Invalid.field("name", "Must not be blank.")
        organisation.name = name.strip()
    if custom_id is not None:
        _check_custom_id_free(session, chain_id, custom_id, but=organisation.id)
        organisation.custom_id = custom_id
    if group_ids is not None:
        place_organisation(
            session, chain_id=chain_id, organisation_id=organisation.id, group_ids=group_ids
        )
    session.flush()
    session.refresh(organisation)
    return organisation


def remove_organisation(
    session: Session, *, chain_id: uuid.UUID, organisation_id: uuid.UUID
) -> None:
    """Take an organisation out of the chain. Kept as a record (its members, and later its
    orders, still point at it) but gone from every list, and its webhook secrets stop. Its
    people leave with it, which frees their e-mail addresses (logins) for a new start."""
    organisation = get_organisation(session, chain_id, organisation_id)
    if organisation.kind == OrganisationKind.BRAND:
        raise Conflict("The brand owns the chain and cannot be removed from it.")
    now = utcnow()
    organisation.removed_at = now
    session.execute(
        update(Member)
        .where(Member.organisation_id == organisation.id, Member.removed_at.is_(None))
        .values(removed_at=now)
    )
    session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.organisation_id == organisation.id,
            or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now),
        )
        .values(expires_at=now)
    )
    session.flush()


def _new_webhook_secret(session: Session, organisation_id: uuid.UUID) -> str:
    # Standard Webhooks: "whsec_" + base64 of 24 random bytes.
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    session.add(WebhookSecret(organisation_id=organisation_id, secret=secret))
    session.flush()
    return secret


def rotate_webhook_secret(
    session: Session, *, chain_id: uuid.UUID, organisation_id: uuid.UUID
) -> tuple[str, datetime]:
    """A new secret for a factory; the current one keeps working for SECRET_GRACE.
    Returns (new secret, when the previous one stops)."""
    organisation = get_organisation(session, chain_id, organisation_id)
    if organisation.kind != OrganisationKind.FACTORY:
        raise Invalid.field("kind", "Only factories have webhook secrets.")
    previous_until = utcnow() + SECRET_GRACE
    session.execute(
        update(WebhookSecret)
        .where(WebhookSecret.organisation_id == organisation.id, WebhookSecret.expires_at.is_(None))
        .values(expires_at=previous_until)
    )
    return _new_webhook_secret(session, organisation.id), previous_until


def _unexpired(now):
    return or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now)


def active_webhook_secrets(
    session: Session, organisation_id: uuid.UUID, *, now: datetime | None = None
) -> list[str]:
    """Every secret a factory's webhook may be signed with right now, newest first."""
    return list(
        session.scalars(
            select(WebhookSecret.secret)
            .where(WebhookSecret.organisation_id == organisation_id, _unexpired(now or utcnow()))
            .order_by(WebhookSecret.id.desc())
        )
    )


_FACTORY_SECRETS = (
    select(Organisation.chain_id, WebhookSecret.secret)
    .join(WebhookSecret, WebhookSecret.organisation_id == Organisation.id)
    .where(
        Organisation.id == bindparam("factory_id"),
        Organisation.kind == OrganisationKind.FACTORY,
        Organisation.removed_at.is_(None),
        _unexpired(bindparam("now")),
    )
    .order_by(WebhookSecret.id.desc())
)


def factory_webhook_secrets(
    session: Session, factory_id: uuid.UUID, *, now: datetime | None = None
) -> tuple[uuid.UUID | None, list[str]]:
    """(chain id, active secrets newest first) of a factory still in its chain, in one
    query; (None, []) for any other organisation or id."""
    # On the connection: a webhook's hottest read needs none of the ORM's handling of it.
    rows = (
        session.connection()
        .execute(_FACTORY_SECRETS, {"factory_id": factory_id, "now": now or utcnow()})
        .all()
    )
    return (rows[0].chain_id if rows else None), [row.secret for row in rows]
