"""Tags on customers: short labels, kept unique and in the order given."""

from __future__ import annotations

from collections.abc import Iterable

from service.errors import Invalid, Reason

MAX_TAGS = 50
MAX_TAG_LENGTH = 50


def clean_tags(tags: Iterable[str], *, field: str = "tags") -> list[str]:
    cleaned = list(dict.fromkeys(tag.strip() for tag in tags if tag and tag.strip()))
    if len(cleaned) > MAX_TAGS:
        raise Invalid.field(field, Reason("At most {count} tags.", count=MAX_TAGS))
    if any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
        reason = Reason("A tag is at most {count} characters.", count=MAX_TAG_LENGTH)
        raise Invalid.field(field, reason)
    return cleaned
