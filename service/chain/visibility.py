"""Visibility rules: which directory groups may see which."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.models import DirectoryGroup, VisibilityRule
from service.db import get_in_chain
from service.pagination import Page, paginate


def add_rule(
    session: Session,
    *,
    chain_id: uuid.UUID,
    viewer_group_id: uuid.UUID,
    visible_group_id: uuid.UUID,
) -> tuple[VisibilityRule, bool]:
    """The rule, and whether it is new: adding an existing rule returns it unchanged."""
    get_in_chain(session, DirectoryGroup, chain_id, viewer_group_id, field="viewer_group_id")
    get_in_chain(session, DirectoryGroup, chain_id, visible_group_id, field="visible_group_id")
    existing = session.scalar(
        select(VisibilityRule).where(
            VisibilityRule.viewer_group_id == viewer_group_id,
            VisibilityRule.visible_group_id == visible_group_id,
        )
    )
    if existing is not None:
        return existing, False
    rule = VisibilityRule(
        chain_id=chain_id, viewer_group_id=viewer_group_id, visible_group_id=visible_group_id
    )
    session.add(rule)
    session.flush()
    return rule, True


def list_rules(
    session: Session, *, chain_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> Page:
    stmt = select(VisibilityRule).where(VisibilityRule.chain_id == chain_id)
    return paginate(session, stmt, VisibilityRule.id, cursor=cursor, limit=limit)


def delete_rule(session: Session, *, chain_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    session.delete(get_in_chain(session, VisibilityRule, chain_id, rule_id))
    session.flush()
