"""Directory groups: a tree per chain, addressed by id or by path ("East/Shanghai/Pudong")."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from service.chain.models import DirectoryGroup, OrganisationGroup, VisibilityRule
from service.db import get_in_chain
from service.errors import Conflict, Invalid
from service.groups.models import DeliveryGroup, GroupTemplate
from service.names import BadName, normalise_name
from service.pagination import Page, paginate

SEPARATOR = "/"
MAX_DEPTH = 10
MAX_PATH_LENGTH = 1000  # the column's length


def clean_name(name: str, *, field: str = "name") -> str:
    if not name.strip():
        raise Invalid.field(field, "Must not be blank.")
    try:
        name = normalise_name(name)
    except BadName as error:
        raise Invalid.field(field, str(error)) from None
    if SEPARATOR in name:
        raise Invalid.field(field, f"Must not contain {SEPARATOR!r}; it separates path levels.")
    if len(name) > 100:
        raise Invalid.field(field, "Longer than 100 characters.")
    return name


def split_path(path: str, *, field: str = "path") -> list[str]:
    parts = [part.strip() for part in path.strip().strip(SEPARATOR).split(SEPARATOR)]
    if not parts or any(not part for part in parts):
        raise Invalid.field(field, "Must be names separated by '/', none of them blank.")
    if len(parts) > MAX_DEPTH:
        raise Invalid.field(field, f"Deeper than {MAX_DEPTH} levels.")
    names = [clean_name(part, field=field) for part in parts]
    _check_fits(SEPARATOR.join(names), field=field)
    return names


def _check_fits(path: str, *, field: str) -> None:
    if path.count(SEPARATOR) >= MAX_DEPTH:
        raise Invalid.field(field, f"The tree would be deeper than {MAX_DEPTH} levels.")
    if len(path) > MAX_PATH_LENGTH:
        raise Invalid.field(field, f"The path would be longer than {MAX_PATH_LENGTH} characters.")


def check_groups_exist(
    session: Session, chain_id: uuid.UUID, group_ids: Iterable[uuid.UUID], *, field: str
) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(DirectoryGroup.id).where(
                DirectoryGroup.chain_id == chain_id, DirectoryGroup.id.in_(wanted)
            )
        )
    )
    missing = [str(gid) for gid in wanted if gid not in found]
    if missing:
        raise Invalid(
            "Unknown directory group.",
            details={"fields": {field: [f"No such directory group: {', '.join(missing)}."]}},
        )
    return wanted


def create_group(
    session: Session, *, chain_id: uuid.UUID, name: str, parent_id: uuid.UUID | None = None
) -> DirectoryGroup:
    name = clean_name(name)
    parent = (
        get_in_chain(session, DirectoryGroup, chain_id, parent_id, field="parent_id")
        if parent_id
        else None
    )
    path = f"{parent.path}{SEPARATOR}{name}" if parent else name
    _check_fits(path, field="parent_id" if parent else "name")
    if _find(session, chain_id, path) is not None:
        raise Conflict(f"A directory group {path!r} already exists.", details={"path": path})
    group = DirectoryGroup(chain_id=chain_id, parent_id=parent_id, name=name, path=path)
    session.add(group)
    session.flush()
    return group


def _find(session: Session, chain_id: uuid.UUID, path: str) -> DirectoryGroup | None:
    return session.scalar(
        select(DirectoryGroup).where(
            DirectoryGroup.chain_id == chain_id, DirectoryGroup.path == path
        )
    )


def ensure_path(
    session: Session,
    *,
    chain_id: uuid.UUID,
    path: str,
    cache: dict[str, DirectoryGroup] | None = None,
) -> tuple[DirectoryGroup, bool]:
    """The group at `path`, creating any missing level. Returns (leaf, created)."""
    cache = {} if cache is None else cache
    parent: DirectoryGroup | None = None
    created = False
    current = ""
    for name in split_path(path):
        current = f"{current}{SEPARATOR}{name}" if current else name
        group = cache.get(current) or _find(session, chain_id, current)
        if group is None:
            group = DirectoryGroup(
                chain_id=chain_id, parent_id=parent.id if parent else None, name=name, path=current
            )
            session.add(group)
            session.flush()
            created = True
        cache[current] = group
        parent = group
    assert parent is not None
    return parent, created


def list_groups(
    session: Session,
    *,
    chain_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    stmt = select(DirectoryGroup).where(DirectoryGroup.chain_id == chain_id)
    if parent_id is not None:
        get_in_chain(session, DirectoryGroup, chain_id, parent_id, field="parent_id")
        stmt = stmt.where(DirectoryGroup.parent_id == parent_id)
    return paginate(session, stmt, DirectoryGroup.id, cursor=cursor, limit=limit)


def update_group(
    session: Session,
    *,
    chain_id: uuid.UUID,
    group_id: uuid.UUID,
    name: str | None = None,
    parent_id: uuid.UUID | None = None,
    move: bool = False,
) -> DirectoryGroup:
    """Rename and/or move (`move=True` with parent_id None moves to the root)."""
    group = get_in_chain(session, DirectoryGroup, chain_id, group_id)
    new_name = clean_name(name) if name is not None else group.name
    new_parent_id = parent_id if move else group.parent_id
    parent = (
        get_in_chain(session, DirectoryGroup, chain_id, new_parent_id, field="parent_id")
        if new_parent_id
        else None
    )
    if parent and (parent.id == group.id or parent.path.startswith(group.path + SEPARATOR)):
        raise Invalid.field("parent_id", "A group cannot be moved under itself.")
    new_path = f"{parent.path}{SEPARATOR}{new_name}" if parent else new_name
    if new_path == group.path:
        return group
    if _find(session, chain_id, new_path) is not None:
        raise Conflict(
            f"A directory group {new_path!r} already exists.", details={"path": new_path}
        )
    old_prefix = group.path + SEPARATOR
    # Every path of the subtree changes head: each must still fit.
    below = [new_path + path[len(group.path) :] for path in _paths_below(session, group)]
    for path in [new_path, *below]:
        _check_fits(path, field="parent_id" if move else "name")
    # Descendants keep their place under the group: rewrite the head of their paths.
    session.execute(
        update(DirectoryGroup)
        .where(DirectoryGroup.chain_id == chain_id, _starts_with(old_prefix))
        .values(path=new_path + SEPARATOR + func.substr(DirectoryGroup.path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False)
    )
    group.name, group.parent_id, group.path = new_name, new_parent_id, new_path
    session.flush()
    session.expire_all()
    return group


def _paths_below(session: Session, group: DirectoryGroup) -> list[str]:
    return list(
        session.scalars(
            select(DirectoryGroup.path).where(
                DirectoryGroup.chain_id == group.chain_id,
                _starts_with(group.path + SEPARATOR),
            )
        )
    )


def _starts_with(prefix: str) -> ColumnElement[bool]:
    # Compared as text, not with LIKE: SQLite's LIKE ignores case, so "east/%" would also
    # select the subtree of "East" there.
    return func.substr(DirectoryGroup.path, 1, len(prefix)) == prefix


def delete_group(session: Session, *, chain_id: uuid.UUID, group_id: uuid.UUID) -> None:
    """Delete a leaf group; its placements, visibility rules and unused template go with it.
    A template that delivery groups were made from stays, for their moderation reads it: the
    group is kept too."""
    group = get_in_chain(session, DirectoryGroup, chain_id, group_id)
    has_children = session.scalar(select(func.count()).where(DirectoryGroup.parent_id == group.id))
    if has_children:
        raise Conflict("The directory group has subgroups; delete or move them first.")
    template_id = session.scalar(
        select(GroupTemplate.id).where(GroupTemplate.directory_group_id == group.id)
    )
    if template_id is not None:
        if session.scalar(select(DeliveryGroup.id).where(DeliveryGroup.template_id == template_id)):
            raise Conflict(
                "Delivery groups were made from this directory group's template, which their "
                "moderation still reads; the directory group cannot be deleted.",
                details={"template_id": str(template_id)},
            )
        session.execute(delete(GroupTemplate).where(GroupTemplate.id == template_id))
    session.execute(delete(OrganisationGroup).where(OrganisationGroup.group_id == group.id))
    session.execute(
        delete(VisibilityRule).where(
            or_(
                VisibilityRule.viewer_group_id == group.id,
                VisibilityRule.visible_group_id == group.id,
            )
        )
    )
    session.delete(group)
    session.flush()


def in_subtrees(paths: Iterable[str]) -> ColumnElement[bool]:
    """A condition on DirectoryGroup: the group is one of `paths` or below one of them."""
    conditions = [
        or_(DirectoryGroup.path == path, _starts_with(path + SEPARATOR)) for path in paths
    ]
    return or_(*conditions) if conditions else false()


def place_organisation(
    session: Session,
    *,
    chain_id: uuid.UUID,
    organisation_id: uuid.UUID,
    group_ids: Iterable[uuid.UUID],
    field: str = "group_ids",
) -> None:
    """Make `group_ids` the organisation's exact set of directory groups."""
    wanted = set(check_groups_exist(session, chain_id, group_ids, field=field))
    current = set(
        session.scalars(
            select(OrganisationGroup.group_id).where(
                OrganisationGroup.organisation_id == organisation_id
            )
        )
    )
    if current - wanted:
        session.execute(
            delete(OrganisationGroup).where(
                OrganisationGroup.organisation_id == organisation_id,
                OrganisationGroup.group_id.in_(current - wanted),
            )
        )
    session.add_all(
        OrganisationGroup(organisation_id=organisation_id, group_id=gid) for gid in wanted - current
    )
    session.flush()
