"""What each kind of channel is sent and what its answers mean: pure functions, no I/O.

The chat tools (WeCom, Feishu, DingTalk, Slack) get a burst of a group's messages coalesced
into one text in their own markdown (chat.py), split into several requests when it is over
their documented limit. A brand's own `webhook` gets one Standard Webhooks signed request per
message. A module per tool says its format, its signing, its secret and its answers' codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from service.notify.formats import dingtalk, feishu, replies, slack, webhook, wecom
from service.notify.formats.outgoing import HttpRequest, OutgoingMessage, Reply, utc
from service.notify.formats.replies import excerpt

__all__ = [
    "CHANNEL_TYPES",
    "HttpRequest",
    "OutgoingMessage",
    "Reply",
    "build_requests",
    "excerpt",
    "new_webhook_secret",
    "read_reply",
    "validate_secret",
]

_TOOLS = {
    "wecom_robot": wecom,
    "feishu_robot": feishu,
    "dingtalk_robot": dingtalk,
    "slack": slack,
    "webhook": webhook,
}
CHANNEL_TYPES = tuple(_TOOLS)


def build_requests(
    channel_type: str,
    url: str,
    secret: str | None,
    messages: list[OutgoingMessage],
    *,
    timezone: str,
    now: datetime,
) -> list[HttpRequest]:
    """The requests that push `messages` (oldest first) to one channel, in the order to send."""
    tool = _tool(channel_type)
    if not messages:
        return []
    return tool.requests(url, secret, messages, timezone=timezone, now=utc(now))


def read_reply(
    channel_type: str, status_code: int, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> Reply:
    """What one answer means: only 2xx (and, from robots, a zero code) is a success."""
    tool = _tool(channel_type)
    return replies.read(
        status_code,
        headers,
        body,
        now=now,
        answers_with_code=tool.ANSWERS_WITH_CODE,
        rate_limit_codes=tool.RATE_LIMIT_CODES,
    )


def validate_secret(channel_type: str, secret: str | None) -> str | None:
    """The secret to store for a channel of this type, or Invalid naming the field `secret`.
    For `webhook`, None means the caller generates one (new_webhook_secret)."""
    tool = _tool(channel_type)
    secret = secret.strip() if secret else None
    if not secret:
        return None
    return tool.valid_secret(secret)


def new_webhook_secret() -> str:
    return webhook.new_secret()


def _tool(channel_type: str):
    tool = _TOOLS.get(channel_type)
    if tool is None:
        raise ValueError(f"unknown channel type {channel_type!r}")
    return tool
