"""Set-password links: one-time, expiring URLs where a member sets their portal password.
Made by the brand (API, CLI) or by the member's own dealer administrator; the token is shown
once and only its hash is kept."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.chain.members import end_sessions, get_member, hash_password
from service.chain.models import Member, PasswordLink
from service.db import utcnow
from service.errors import Gone, Invalid, NotFound
from service.tokens import secret_hash

DEFAULT_HOURS = 72
MAX_HOURS = 30 * 24
PATH = "/portal/password/"


def password_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{token}"


def make_password_link(
    session: Session,
    *,
    chain_id: uuid.UUID,
    member_id: uuid.UUID,
    made_by: str,
    expires_in_hours: int = DEFAULT_HOURS,
) -> tuple[PasswordLink, str]:
    """A new link for a live member of the chain, and its token (returned once). The member's
    earlier links that were not used stop working: the newest one is the one handed out."""
    member = get_member(session, chain_id, member_id)
    if not 1 <= expires_in_hours <= MAX_HOURS:
        raise Invalid.field("expires_in_hours", f"Must be between 1 and {MAX_HOURS}.")
    now = utcnow()
    session.execute(
        update(PasswordLink)
        .where(
            PasswordLink.member_id == member.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(24)
    link = PasswordLink(
        chain_id=chain_id,
        member_id=member.id,
        token_hash=secret_hash(token),
        made_by=made_by,
        created_at=now,
        expires_at=now + timedelta(hours=expires_in_hours),
    )
    session.add(link)
    session.flush()
    return link, token


def open_password_link(session: Session, token: str) -> tuple[PasswordLink, Member]:
    """The usable link behind a token and its member, or an error saying why not: NotFound for
    a token that never was (or whose member has gone), Gone for a used or expired one."""
    link = session.scalar(select(PasswordLink).where(PasswordLink.token_hash == secret_hash(token)))
    if link is None:
        raise NotFound("No such link.")
    try:
        member = get_member(session, link.chain_id, link.member_id)
    except NotFound:
        raise NotFound("No such link.") from None
    if link.used_at is not None:
        raise Gone("This link has been used.", code="password_link_used")
    if link.expires_at <= utcnow():
        raise Gone("This link has expired.", code="password_link_expired")
    return link, member


def use_password_link(session: Session, *, token: str, password: str) -> Member:
    """Sets the member's password through the link, once: of two uses racing, one wins and the
    other is told the link is used. Every other session of the member ends."""
    link, member = open_password_link(session, token)
    password_hash = hash_password(password)  # a refused password leaves the link usable
    claimed = session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Gone("This link has been used.", code="password_link_used")
    member.password_hash = password_hash
    end_sessions(session, member)
    return member
