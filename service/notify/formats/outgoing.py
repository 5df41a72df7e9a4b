"""What every channel type shares: the message as it is sent, the request, the answer read,
and how text is measured and cleaned."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

USER_AGENT = "ChainCollab/1"
# Names go into titles and every message line; a long one must not eat a part's room.
NAME_LIMIT = 100


@dataclass(frozen=True)
class OutgoingMessage:
    key: str  # stable idempotency key of this message on this channel (used as webhook-id)
    message_id: str
    group_id: str
    group_name: str
    kind: str  # "welcome", "notification", "auto_reply", "notice", "broadcast", "text"
    sender: str  # "member", "customer" or "system"
    sender_name: str | None
    text: str
    payload: dict | None  # notifications: {"order", "work_item", "milestone", "eta"} (strings)
    created_at: datetime  # aware, UTC


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: dict[str, str]
    body: bytes  # the exact bytes to POST (JSON, UTF-8); headers include content-type


@dataclass(frozen=True)
class Reply:
    ok: bool
    rate_limited: bool = False
    gone: bool = False  # the endpoint says it no longer exists: 410 (any type)
    retry_after: float | None = None  # seconds, from a Retry-After header
    error: str | None = None  # short human reason, e.g. "HTTP 500", "errcode 93000: …"


def utf8_len(text: str) -> int:
    return len(text.encode())


def json_len(text: str) -> int:
    """Bytes `text` takes inside a JSON string as we serialise it (escapes included)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def utf16_len(text: str) -> int:
    # Slack counts "characters" without saying which; UTF-16 units (what JavaScript counts) are
    # never fewer than code points, so a part within this is within either.
    return len(text.encode("utf-16-le")) // 2


def dumps(body: dict) -> bytes:
    # "replace": a lone surrogate in stored text must not stop a push.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(errors="replace")


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A push is not the place to refuse a chain's setting; times then read in UTC.
        return ZoneInfo("UTC")


def who(message: OutgoingMessage) -> str:
    if message.sender_name:
        return message.sender_name
    return {"system": "System", "customer": "Customer"}.get(message.sender, "Member")


def name(name: str) -> str:
    """A name as titles and message lines show it: one line, not too long."""
    return clean(short(" ".join(name.split()), NAME_LIMIT))


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(text: str) -> str:
    # A lone surrogate cannot be sent as UTF-8.
    return text.encode("utf-8", errors="replace").decode()
