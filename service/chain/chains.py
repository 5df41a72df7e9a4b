"""Chains and the API keys that act for their brand."""

from __future__ import annotations

import secrets
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.chain.members import check_language
from service.chain.models import ApiKey, Chain, Organisation, OrganisationKind
from service.db import get_in_chain, utcnow
from service.errors import Invalid
from service.groups.templates import default_template
from service.system_texts import DEFAULT_LANGUAGE
from service.tokens import secret_hash

API_KEY_PREFIX = "cck_"


def create_chain(
    session: Session,
    *,
    name: str,
    timezone: str = "Asia/Shanghai",
    language: str = DEFAULT_LANGUAGE,
) -> tuple[Chain, Organisation]:
    """A brand's chain, with the brand itself as its first organisation."""
    name = name.strip()
    if not name:
        raise Invalid.field("name", "Must not be blank.")
    _check_timezone(timezone)
    check_language(language)
    chain = Chain(name=name, timezone=timezone, language=language)
    session.add(chain)
    session.flush()
    brand = Organisation(chain_id=chain.id, kind=OrganisationKind.BRAND, name=name)
    session.add(brand)
    session.flush()
    default_template(session, chain.id)
    return chain, brand


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key naming a directory of the zone database ("America").
        raise Invalid.field("timezone", f"Unknown time zone {timezone!r}.") from None


def get_chain(session: Session, chain_id: uuid.UUID) -> Chain:
    return session.get(Chain, chain_id)


def update_chain(session: Session, *, chain_id: uuid.UUID, **changes) -> Chain:
    """Change a chain's settings: name, timezone, language (zh-CN or en), quiet_hours
    ({start, end} local "HH:MM", or None for none), business_hours ({start, end}, local
    "HH:MM", every day, ending after they start), broadcast_quota (None: as many as the month
    has days)."""
    chain = get_chain(session, chain_id)
    if "timezone" in changes:
        _check_timezone(changes["timezone"])
    if "language" in changes:
        check_language(changes["language"])
    if "business_hours" in changes:
        hours = changes.pop("business_hours")
        if hours["start"] >= hours["end"]:
            raise Invalid.field("business_hours", "Must end after they start, on the same day.")
        chain.business_hours_start, chain.business_hours_end = hours["start"], hours["end"]
    if "quiet_hours" in changes:
        quiet = changes.pop("quiet_hours")
        chain.quiet_hours_start = quiet["start"] if quiet else None
        chain.quiet_hours_end = quiet["end"] if quiet else None
    for name, value in changes.items():
        setattr(chain, name, value)
    session.flush()
    return chain


def brand_of(session: Session, chain_id: uuid.UUID) -> Organisation:
    return session.scalars(
        select(Organisation).where(
            Organisation.chain_id == chain_id, Organisation.kind == OrganisationKind.BRAND
        )
    ).one()


def issue_api_key(session: Session, *, chain_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """A new key for the chain. The key itself is returned once and never stored."""
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{secret}"
    api_key = ApiKey(chain_id=chain_id, name=name, prefix=key[:12], key_hash=secret_hash(key))
    session.add(api_key)
    session.flush()
    return api_key, key


def chain_for_api_key(session: Session, key: str) -> uuid.UUID | None:
    """The chain a live key belongs to, or None for an unknown or revoked key."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    return session.scalar(
        select(ApiKey.chain_id).where(
            ApiKey.key_hash == secret_hash(key), ApiKey.revoked_at.is_(None)
        )
    )


def list_api_keys(session: Session, chain_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).where(ApiKey.chain_id == chain_id).order_by(ApiKey.id))
    )


def revoke_api_key(session: Session, *, chain_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    api_key = get_in_chain(session, ApiKey, chain_id, key_id)
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.refresh(api_key)
    return api_key
