"""The shared directory: the members of a chain as one member of it may see them.

A member always sees their own organisation and the brand. Beyond that they see exactly
what visibility rules grant to the directory groups their organisation sits in (or below):
dealers never see other dealers, nor factories, unless a rule says so. Brand members see
the whole chain. Mobiles are shown whole only within the member's own organisation.
"""

from __future__ import annotations

import uuid
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
    page = paginate(session, stmt, Member.id, cursor=cursor, limit=limit)
    entries = [_entry(member, viewer_organisation_id) for member in page.items]
    return Page(entries, page.next_cursor)


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
