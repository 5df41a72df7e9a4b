"""Tags on customers: short labels, kept unique and in the order given."""

from __future__ import annotations

from collections.abc import Iterable

from service.errors import Invalid

MAX_TAGS = 50
MAX_TAG_LENGTH = 50


def clean_tags(tags: Iterable[str], *, field: str = "tags") -> list[str]:
    cleaned = list(dict.fromkeys(tag.strip() for tag in tags if tag and tag.strip()))
    if len(cleaned) > MAX_TAGS:
        raise Invalid.field(field, f"At most {MAX_TAGS} tags.")
    if any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
        raise Invalid.field(field, f"A tag is at most {MAX_TAG_LENGTH} characters.")
    return cleaned
