"""Feishu / Lark (飞书) group robots: rich-text posts, 20 KB a request body, signed in the
body when the robot has a secret (签名校验)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from service.errors import Invalid
from service.notify.formats.chat import ChatFormat, chat_requests, plain_char
from service.notify.formats.outgoing import HttpRequest, OutgoingMessage, dumps, json_len

# An answer on HTTP 200 whose result code means "too fast": 11232 (自定义机器人使用指南: 100 a
# minute, 5 a second per robot).
RATE_LIMIT_CODES = frozenset({11232})
ANSWERS_WITH_CODE = True

_PARAGRAPH = len('[{"tag":"text","text":""}],')


def _format(signature: dict[str, str]) -> ChatFormat:
    def body(title: str, lines: list[str]) -> dict:
        # Post "text" elements are shown as they are (mentions are separate "at" elements), so
        # user text needs no escaping here.
        paragraphs = [[{"tag": "text", "text": line}] for line in lines]
        post = {"zh_cn": {"title": title, "content": paragraphs}}
        return {**signature, "msg_type": "post", "content": {"post": post}}

    return ChatFormat(
        # "发送消息时，请求体的数据大小不能超过 20 KB" (Feishu 自定义机器人使用指南); 20000 is
        # within 20 KB whichever way a KB is read.
        limit=20000,
        cost=json_len,
        line_overhead=_PARAGRAPH,
        escape_char=plain_char,
        prefix=lambda hhmm, who: f"{hhmm} {who}: ",
        body=body,
        measure=lambda body: len(dumps(body)),
    )


def requests(
    url: str, secret: str | None, messages: list[OutgoingMessage], *, timezone: str, now: datetime
) -> list[HttpRequest]:
    fmt = _format(_signature(secret, now) if secret else {})
    return chat_requests(fmt, url, messages, timezone=timezone)


def _signature(secret: str, now: datetime) -> dict[str, str]:
    # Feishu 签名校验: timestamp in seconds; "timestamp\nsecret" is the HmacSHA256 *key* over an
    # empty message, Base64; both go in the body.
    timestamp = int(now.timestamp())
    key = f"{timestamp}\n{secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": str(timestamp), "sign": sign}


def valid_secret(secret: str) -> str:
    if len(secret) > 200 or not secret.isprintable():
        raise Invalid.field("secret", "A Feishu robot secret is at most 200 printable characters.")
    return secret
