"""WeCom (企业微信) group robots: markdown, 4096 bytes a message, no signing."""

from __future__ import annotations

from datetime import datetime

from service.notify.formats.chat import (
    ChatFormat,
    chat_requests,
    escape,
    no_secret,
    robot_markdown_char,
)
from service.notify.formats.outgoing import HttpRequest, OutgoingMessage, utf8_len

# An answer on HTTP 200 whose result code means "too fast": 45009 (api freq out of limit).
RATE_LIMIT_CODES = frozenset({45009})
ANSWERS_WITH_CODE = True
valid_secret = no_secret


def _body(title: str, lines: list[str]) -> dict:
    heading = f"**{escape(title, robot_markdown_char)}**"
    return {"msgtype": "markdown", "markdown": {"content": "\n".join([heading, *lines])}}


FORMAT = ChatFormat(
    # markdown.content: "最长不超过4096个字节，必须是utf8编码" (WeCom 群机器人配置说明,
    # developer.work.weixin.qq.com/document/path/91770); longer is errcode 40058.
    limit=4096,
    cost=utf8_len,
    line_overhead=1,  # "\n"
    escape_char=robot_markdown_char,
    prefix=lambda hhmm, who: f'<font color="comment">{hhmm}</font> **{who}**: ',
    body=_body,
    link=lambda name, url: f"[{name}]({url})",
    measure=lambda body: utf8_len(body["markdown"]["content"]),
)


def requests(
    url: str, secret: str | None, messages: list[OutgoingMessage], *, timezone: str, now: datetime
) -> list[HttpRequest]:
    return chat_requests(FORMAT, url, messages, timezone=timezone)
