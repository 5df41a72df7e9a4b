"""Invitations: single-use, expiring codes by which a dealer or factory joins a chain."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.chain.directory_groups import check_groups_exist, place_organisation
from service.chain.members import add_member
from service.chain.models import DirectoryGroup, Invitation, Member, MemberRole, Organisation
from service.chain.organisations import add_organisation
from service.db import utcnow
from service.errors import Gone, Invalid, NotFound
from service.pagination import Page, paginate
from service.tokens import secret_hash

DEFAULT_HOURS = 72
MAX_HOURS = 30 * 24


def create_invitation(
    session: Session,
    *,
    chain_id: uuid.UUID,
    kind: str,
    expires_in_hours: int = DEFAULT_HOURS,
    group_ids: Iterable[uuid.UUID] = (),
) -> tuple[Invitation, str]:
    """An invitation and its code; the code is returned once and only its hash is kept."""
    if kind not in ("dealer", "factory"):
        raise Invalid.field("kind", "Must be 'dealer' or 'factory'.")
    if not 1 <= expires_in_hours <= MAX_HOURS:
        raise Invalid.field("expires_in_hours", f"Must be between 1 and {MAX_HOURS}.")
    groups = check_groups_exist(session, chain_id, group_ids, field="group_ids")
    code = secrets.token_urlsafe(18)
    invitation = Invitation(
        chain_id=chain_id,
        kind=kind,
        code_hash=secret_hash(code),
        group_ids=[str(gid) for gid in groups],
        expires_at=utcnow() + timedelta(hours=expires_in_hours),
    )
    session.add(invitation)
    session.flush()
    return invitation, code


def invitation_status(invitation: Invitation) -> str:
    if invitation.accepted_at:
        return "accepted"
    if invitation.expires_at <= utcnow():
        return "expired"
    return "pending"


def list_invitations(
    session: Session, *, chain_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> Page:
    stmt = select(Invitation).where(Invitation.chain_id == chain_id)
    return paginate(session, stmt, Invitation.id, cursor=cursor, limit=limit)


def open_invitation(session: Session, code: str) -> Invitation:
    """The pending invitation behind a code, or an error saying why it cannot be used."""
    invitation = session.scalar(select(Invitation).where(Invitation.code_hash == secret_hash(code)))
    if invitation is None:
        raise NotFound("No such invitation.")
    status = invitation_status(invitation)
    if status != "pending":
        raise Gone(f"This invitation has been {status}.", code=f"invitation_{status}")
    return invitation


def accept_invitation(
    session: Session,
    *,
    code: str,
    organisation_name: str,
    admin_name: str,
    admin_email: str,
    password: str,
    admin_mobile: str | None = None,
) -> tuple[Organisation, Member, str | None]:
    """The invited organisation joins, with its first admin. Returns (organisation, admin,
    webhook secret for a factory)."""
    invitation = open_invitation(session, code)
    # Claim the invitation first, conditionally: of two people racing with one code,
    # exactly one update matches and the other is told it is used.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise Gone("This invitation has been accepted.", code="invitation_accepted")
    organisation, secret = add_organisation(
        session, chain_id=invitation.chain_id, kind=invitation.kind, name=organisation_name
    )
    # Groups deleted since the invitation was made are simply skipped.
    still_there = session.scalars(
        select(DirectoryGroup.id).where(
            DirectoryGroup.chain_id == invitation.chain_id,
            DirectoryGroup.id.in_([uuid.UUID(gid) for gid in invitation.group_ids]),
        )
    )
    place_organisation(
        session,
        chain_id=invitation.chain_id,
        organisation_id=organisation.id,
        group_ids=list(still_there),
    )
    admin = add_member(
        session,
        chain_id=invitation.chain_id,
        organisation_id=organisation.id,
        name=admin_name,
        role=MemberRole.ADMIN,
        email=admin_email,
        mobile=admin_mobile,
        password=password,
    )
    invitation.organisation_id = organisation.id
    session.flush()
    return organisation, admin, secret
