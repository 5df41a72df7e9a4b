"""Slack incoming webhooks: one Block Kit section of mrkdwn, 3000 characters, no signing."""

from __future__ import annotations

from datetime import datetime

from service.notify.formats.chat import ChatFormat, chat_requests, escape, no_secret
from service.notify.formats.outgoing import HttpRequest, OutgoingMessage, utf16_len

RATE_LIMIT_CODES: frozenset[int] = frozenset()
# Slack answers 200 with "ok" or an HTTP error: no result code in a body.
ANSWERS_WITH_CODE = False
valid_secret = no_secret

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _char(char: str) -> str:
    # Slack's control characters, escaped as its "Formatting text" reference says; this is what
    # keeps user text from writing <!channel>, <@U…> or <url|label> links.
    return _ENTITIES.get(char, char)


def _body(title: str, lines: list[str]) -> dict:
    title = escape(title, _char)
    text = "\n".join([f"*{title}*", *lines])
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {"text": title, "blocks": [section]}


FORMAT = ChatFormat(
    # Block Kit section block: "text … Maximum length for the text in this field is 3000
    # characters" (api.slack.com/reference/block-kit/blocks#section); more is a 400.
    limit=3000,
    cost=utf16_len,
    line_overhead=1,  # "\n"
    escape_char=_char,
    prefix=lambda hhmm, who: f"`{hhmm}` *{who}*: ",
    body=_body,
    link=lambda name, url: f"<{url}|{name}>",
    measure=lambda body: utf16_len(body["blocks"][0]["text"]["text"]),
)


def requests(
    url: str, secret: str | None, messages: list[OutgoingMessage], *, timezone: str, now: datetime
) -> list[HttpRequest]:
    return chat_requests(FORMAT, url, messages, timezone=timezone)
