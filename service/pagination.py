"""Keyset pagination over time-ordered (UUIDv7) primary keys: every page is one index range
scan, however deep the client has paged."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from service.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str, *, field: str = "cursor") -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise Invalid.field(field, "Not a cursor this API issued.") from None


def paginate(
    session: Session,
    stmt: Select,
    id_column,
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> Page:
    """Run `stmt` (selecting one entity) one page at a time, oldest (or newest) first."""
    if cursor:
        after = decode_cursor(cursor)
        stmt = stmt.where(id_column < after if newest_first else id_column > after)
    order = id_column.desc() if newest_first else id_column
    rows = session.scalars(stmt.order_by(order).limit(limit + 1)).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(list(rows), encode_cursor(rows[-1].id))
    return Page(list(rows), None)
