"""DingTalk (钉钉) group robots: markdown, 20000 bytes a request body, signed in the URL
when the robot has a secret (加签)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

from service.errors import Invalid
from service.notify.formats.chat import ChatFormat, chat_requests, escape, robot_markdown_char
from service.notify.formats.outgoing import HttpRequest, OutgoingMessage, dumps, json_len

# An answer on HTTP 200 whose result code means "too fast": 130101 (send too fast; 20 a
# minute per robot).
RATE_LIMIT_CODES = frozenset({130101})
ANSWERS_WITH_CODE = True

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECRET = re.compile(r"SEC[0-9A-Za-z]{1,197}")
# DingTalk's guide writes a line break as "  \n  "; a blank line (a paragraph) is unambiguous.
_BREAK = "\n\n"


def _body(title: str, lines: list[str]) -> dict:
    heading = f"**{escape(title, robot_markdown_char)}**"
    text = _BREAK.join([heading, *lines])
    # markdown.title is what the conversation list shows; it is plain text.
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


FORMAT = ChatFormat(
    # DingTalk answers "body 大小不合法…请保持大小在 20000bytes 以内" (errcode 460101,
    # "message too long, exceed 20000 bytes"): the limit is on the whole request body.
    limit=20000,
    cost=json_len,
    line_overhead=json_len(_BREAK),
    escape_char=robot_markdown_char,
    prefix=lambda hhmm, who: f"{hhmm} **{who}**: ",
    body=_body,
    link=lambda name, url: f"[{name}]({url})",
    measure=lambda body: len(dumps(body)),
)


def requests(
    url: str, secret: str | None, messages: list[OutgoingMessage], *, timezone: str, now: datetime
) -> list[HttpRequest]:
    url = _signed_url(url, secret, now) if secret else url
    return chat_requests(FORMAT, url, messages, timezone=timezone)


def _signed_url(url: str, secret: str, now: datetime) -> str:
    # DingTalk 加签: timestamp in ms; HmacSHA256 keyed by the secret over "timestamp\nsecret",
    # Base64, then URL-encoded, appended as &timestamp=…&sign=… (自定义机器人安全设置).
    timestamp = (now - _EPOCH) // timedelta(milliseconds=1)
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def valid_secret(secret: str) -> str:
    if not _SECRET.fullmatch(secret):
        raise Invalid.field("secret", "A DingTalk robot secret starts with SEC.")
    return secret
