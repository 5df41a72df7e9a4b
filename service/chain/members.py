"""Members: the people of an organisation, and their portal passwords."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.mobiles import normalise_mobile
from service.chain.models import Language, Member, MemberRole, Organisation
from service.chain.organisations import get_organisation
from service.db import get_in_chain, utcnow
from service.errors import Conflict, Invalid, Reason, no_such
from service.pagination import Page, paginate

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
_UNSET = object()


def normalise_email(email: str) -> str:
    """An e-mail address as it is stored and looked up: one address however it is typed."""
    return email.strip().lower()


def get_member(
    session: Session, chain_id: uuid.UUID, member_id: uuid.UUID, *, field: str | None = None
) -> Member:
    member = get_in_chain(session, Member, chain_id, member_id, field)
    if member.removed_at or member.organisation.removed_at:
        raise no_such("member", field=field)
    return member


def _check_role(role: str) -> None:
    if role not in set(MemberRole):
        raise Invalid.field("role", f"Must be one of: {', '.join(MemberRole)}.")


def _check_email_free(
    session: Session, chain_id: uuid.UUID, email: str, *, but: uuid.UUID | None = None
) -> None:
    # E-mail is the portal login, unique among the live members of one chain. Only of this
    # chain: whether another chain has the address is none of this chain's business.
    taken = session.scalar(
        select(Member.id).where(
            Member.chain_id == chain_id, Member.email == email, Member.removed_at.is_(None)
        )
    )
    if taken is not None and taken != but:
        raise Conflict(
            "Another member of this chain already uses this e-mail address.",
            details={"fields": {"email": ["Already in use."]}},
        )


def add_member(
    session: Session,
    *,
    chain_id: uuid.UUID,
    organisation_id: uuid.UUID,
    name: str,
    role: str,
    mobile: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> Member:
    organisation = get_organisation(session, chain_id, organisation_id)
    name = name.strip()
    if not name:
        raise Invalid.field("name", "Must not be blank.")
    _check_role(role)
    if email:
        email = normalise_email(email)
        _check_email_free(session, chain_id, email)
    member = Member(
        chain_id=chain_id,
        organisation_id=organisation.id,
        name=name,
        role=role,
        mobile=normalise_mobile(mobile) if mobile else None,
        email=email or None,
        password_hash=hash_password(password) if password else None,
    )
    session.add(member)
    session.flush()
    return member


def list_members(
    session: Session,
    *,
    chain_id: uuid.UUID,
    organisation_id: uuid.UUID,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    get_organisation(session, chain_id, organisation_id)
    stmt = select(Member).where(
        Member.organisation_id == organisation_id, Member.removed_at.is_(None)
    )
    return paginate(session, stmt, Member.id, cursor=cursor, limit=limit)


def update_member(
    session: Session,
    *,
    chain_id: uuid.UUID,
    member_id: uuid.UUID,
    name: str | None = None,
    role: str | None = None,
    mobile=_UNSET,
    email=_UNSET,
) -> Member:
    """Change what is given; `mobile=None` or `email=None` clears it."""
    member = get_member(session, chain_id, member_id)
    if name is not None:
        if not name.strip():
            raise Invalid.field("name", "Must not be blank.")
        member.name = name.strip()
    if role is not None:
        _check_role(role)
        member.role = role
    if mobile is not _UNSET:
        member.mobile = normalise_mobile(mobile) if mobile else None
    if email is not _UNSET:
        email = normalise_email(email) if email else None
        if email:
            _check_email_free(session, chain_id, email, but=member.id)
        member.email = email
    session.flush()
    return member


def remove_member(session: Session, *, chain_id: uuid.UUID, member_id: uuid.UUID) -> None:
    member = get_member(session, chain_id, member_id)
    member.removed_at = utcnow()
    session.flush()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        reason = Reason("At least {count} characters.", count=MIN_PASSWORD_LENGTH)
        raise Invalid.field("password", reason)
    return _hasher.hash(password)


def normalise_login(login: str) -> str | None:
    """What a person typed to sign in, as it is stored: an e-mail address (anything with an @),
    else a mobile in E.164 however it was typed (spaces, dashes, +86, 0086); None for text that
    is neither."""
    login = login.strip()
    if "@" in login:
        return normalise_email(login)
    try:
        return normalise_mobile(login)
    except Invalid:
        return None


def authenticate_member(session: Session, *, login: str, password: str) -> list[Member]:
    """The live members with this login (e-mail or mobile) whose password this is. Empty for
    an unknown login and a bad password alike, and a chain whose password this is not is never
    named. An address may be used in several chains, and a mobile even by two members of one
    chain (it is not unique): every member the password opens is returned, and the person
    chooses; none is picked for them."""
    key = normalise_login(login)
    column = Member.email if key and "@" in key else Member.mobile
    candidates = (
        session.scalars(
            select(Member)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                column == key,
                Member.removed_at.is_(None),
                Member.password_hash.is_not(None),
                Organisation.removed_at.is_(None),
            )
            .order_by(Member.chain_id, Member.id)
        ).all()
        if key
        else []
    )
    if not candidates:
        _hasher.hash(password)  # spend the same time as a real check
        return []
    return [member for member in candidates if _password_matches(member, password)]


def _password_matches(member: Member, password: str) -> bool:
    try:
        _hasher.verify(member.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(member.password_hash):
        member.password_hash = _hasher.hash(password)
    return True


def end_sessions(session: Session, member: Member) -> None:
    """End every portal session of this member, on every device (a copied cookie included)."""
    member.session_generation += 1
    session.flush()


def check_language(language: str, *, field: str = "language") -> None:
    if language not in set(Language):
        raise Invalid.field(field, f"Must be one of: {', '.join(Language)}.")


def set_language(session: Session, member: Member, language: str | None) -> None:
    """The member's own portal language; None: as their browser asks."""
    if language is not None:
        check_language(language)
    member.language = language
    session.flush()
