"""The shared directory: the members of a chain as one member of it may see them.

A member always sees their own organisation and the brand. Beyond that they see exactly
what visibility rules grant to the directory groups their organisation sits in (or below):
dealers never see other dealers, nor factories, unless a rule says so. Brand members see
the whole chain. Mobiles are shown whole only within the member's own organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from service.chain.directory_groups import SEPARATOR, in_subtrees
from service.chain.members import get_member
from service.chain.mobiles import mask_mobile
from service.chain.models import (
    DirectoryGroup,
    Member,
    Organisation,
    OrganisationGroup,
    OrganisationKind,
    VisibilityRule,
)
from service.chain.organisations import get_organisation
from service.pagination import Page, paginate


@dataclass(frozen=True)
class DirectoryEntry:
    id: uuid.UUID
    name: str
    role: str
    mobile: str | None
    email: str | None
    organisation: Organisation


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split(SEPARATOR)
    return [SEPARATOR.join(parts[: i + 1]) for i in range(len(parts))]


def granted_group_ids(
    session: Session, chain_id: uuid.UUID, organisation_id: uuid.UUID
) -> list[uuid.UUID]:
    """The directory groups an organisation may see through visibility rules. A rule on a
    group applies to everything below it, on both the viewer's and the visible side."""
    own_paths = session.scalars(
        select(DirectoryGroup.path)
        .join(OrganisationGroup, OrganisationGroup.group_id == DirectoryGroup.id)
        .where(OrganisationGroup.organisation_id == organisation_id)
    ).all()
    viewer_paths = {ancestor for path in own_paths for ancestor in _ancestor_paths(path)}
    if not viewer_paths:
        return []
    viewer = DirectoryGroup.__table__.alias("viewer")
    visible_paths = session.scalars(
        select(DirectoryGroup.path)
        .join(VisibilityRule, VisibilityRule.visible_group_id == DirectoryGroup.id)
        .join(viewer, viewer.c.id == VisibilityRule.viewer_group_id)
        .where(viewer.c.chain_id == chain_id, viewer.c.path.in_(viewer_paths))
    ).all()
    if not visible_paths:
        return []
    return list(
        session.scalars(
            select(DirectoryGroup.id).where(
                DirectoryGroup.chain_id == chain_id, in_subtrees(set(visible_paths))
            )
        )
    )


def visible_to(
    session: Session, chain_id: uuid.UUID, organisation: Organisation
) -> ColumnElement[bool]:
    """A condition on Organisation: may `organisation`'s members see it?"""
    if organisation.kind == OrganisationKind.BRAND:
        return true()
    conditions = [Organisation.id == organisation.id, Organisation.kind == OrganisationKind.BRAND]
    granted = granted_group_ids(session, chain_id, organisation.id)
    if granted:
        conditions.append(
            Organisation.id.in_(
                select(OrganisationGroup.organisation_id).where(
                    OrganisationGroup.group_id.in_(granted)
                )
            )
        )
    return or_(*conditions)


def _directory(
    session: Session,
    chain_id: uuid.UUID,
    viewer_member_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
):
    """The statement of the members the viewer may see, and the viewer's organisation."""
    stmt = (
        select(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(
            Member.chain_id == chain_id,
            Member.removed_at.is_(None),
            Organisation.removed_at.is_(None),
        )
    )
    viewer_organisation_id = None
    if viewer_member_id is not None:
        viewer = get_member(session, chain_id, viewer_member_id, field="viewer_member_id")
        viewer_organisation_id = viewer.organisation_id
        stmt = stmt.where(visible_to(session, chain_id, viewer.organisation))
    if organisation_id is not None:
        get_organisation(session, chain_id, organisation_id, field="organisation_id")
        stmt = stmt.where(Member.organisation_id == organisation_id)
    return stmt, viewer_organisation_id


def shared_directory(
    session: Session,
    *,
    chain_id: uuid.UUID,
    viewer_member_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The directory as `viewer_member_id` sees it; without a viewer, the brand's full view
    (the brand owns the chain's directory and sees every number whole)."""
    stmt, viewer_organisation_id = _directory(session, chain_id, viewer_member_id, organisation_id)
    page = paginate(session, stmt, Member.id, cursor=cursor, limit=limit)
    entries = [_entry(member, viewer_organisation_id) for member in page.items]
    return Page(entries, page.next_cursor)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _typed_digits(query: str) -> tuple[str, str]:
    """The digits of a number as typed (`+86 139 0000 1234`, `0086…`, `139-0000-1234`): as
    they appear in the E.164 number, and without China's code, as a masked number shows."""
    digits = "".join(ch for ch in query if ch.isdigit())
    international = query.lstrip().startswith("+") or digits.startswith("00")
    digits = digits.removeprefix("00") if digits.startswith("00") else digits
    national = digits.removeprefix("86") if international else digits
    return digits, national


def _shows(entry: DirectoryEntry, digits: str, national: str) -> bool:
    """Whether the number, as this viewer sees it, shows the digits typed: a masked number
    is found by what is left of it, never by its hidden digits."""
    if not entry.mobile or not digits:
        return False
    if "*" not in entry.mobile:
        return digits in entry.mobile.lstrip("+")
    country, _, masked = entry.mobile.rpartition(" ")
    visible = [part for part in masked.split("*") if part]
    if country and digits.startswith(country.lstrip("+")):
        national = digits.removeprefix(country.lstrip("+"))
    return bool(national) and any(national in part for part in visible)


def search_directory(
    session: Session,
    *,
    chain_id: uuid.UUID,
    viewer_member_id: uuid.UUID | None,
    query: str,
    roles: Sequence[str] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The directory as the viewer sees it, narrowed to the members whose name or
    organisation's name holds `query`, whose role is one of `roles` (the roles whose names,
    in the reader's language, hold it), or whose mobile shows its digits as the viewer sees
    it (whole in their own organisation, masked elsewhere)."""
    query = query.strip()
    stmt, viewer_organisation_id = _directory(session, chain_id, viewer_member_id, None)
    digits, national = _typed_digits(query)
    # Anything of a number shown masked is somewhere in the whole number: the database
    # narrows to those, and each masked one is then checked for what the viewer sees.
    matches = [
        Member.name.ilike(_like(query), escape="\\"),
        Organisation.name.ilike(_like(query), escape="\\"),
    ]
    if roles:
        matches.append(Member.role.in_(list(roles)))
    if digits:
        matches.append(Member.mobile.like(_like(national if national else digits)))
    stmt = stmt.where(or_(*matches))
    entries: list[DirectoryEntry] = []
    # Pages are read until one is full (or none is left): a page of candidates may lose
    # some to the masked numbers' check.
    while True:
        page = paginate(session, stmt, Member.id, cursor=cursor, limit=limit)
        for member in page.items:
            entry = _entry(member, viewer_organisation_id)
            if _found_by_text(entry, member, query, roles) or _shows(entry, digits, national):
                entries.append(entry)
        cursor = page.next_cursor
        if cursor is None or len(entries) >= limit:
            return Page(entries, cursor)


def _found_by_text(entry: DirectoryEntry, member: Member, query: str, roles) -> bool:
    folded = query.casefold()
    return bool(query) and (
        folded in entry.name.casefold()
        or folded in entry.organisation.name.casefold()
        or entry.role in roles
    )


def _entry(member: Member, viewer_organisation_id: uuid.UUID | None) -> DirectoryEntry:
    mobile = member.mobile
    if mobile and viewer_organisation_id not in (None, member.organisation_id):
        mobile = mask_mobile(mobile)
    return DirectoryEntry(
        id=member.id,
        name=member.name,
        role=member.role,
        mobile=mobile,
        email=member.email,
        organisation=member.organisation,
    )
