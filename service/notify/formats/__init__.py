"""What each kind of channel is sent and what its answers mean: pure functions, no I/O.

The chat tools (WeCom, Feishu, DingTalk, Slack) get a burst of a group's messages coalesced into
one text in their own markdown, split into several requests when it is over their documented
limit. A brand's own `webhook` gets one Standard Webhooks signed request per message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from standardwebhooks.webhooks import Webhook

from service.errors import Invalid

CHANNEL_TYPES = ("wecom_robot", "feishu_robot", "dingtalk_robot", "slack", "webhook")

USER_AGENT = "ChainCollab/1"
_CHAT_HEADERS = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Names go into titles and every message line; a long one must not eat a part's room.
_NAME_LIMIT = 100
_ERROR_LIMIT = 200


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


# --- sizes -------------------------------------------------------------------------------------


def _utf8_len(text: str) -> int:
    return len(text.encode())


def _json_len(text: str) -> int:
    """Bytes `text` takes inside a JSON string as we serialise it (escapes included)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def _utf16_len(text: str) -> int:
    # Slack counts "characters" without saying which; UTF-16 units (what JavaScript counts) are
    # never fewer than code points, so a part within this is within either.
    return len(text.encode("utf-16-le")) // 2


def _dumps(body: dict) -> bytes:
    # "replace": a lone surrogate in stored text must not stop a push.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(errors="replace")


# --- escaping ----------------------------------------------------------------------------------

_ZWSP = "\u200b"


def _robot_markdown_char(char: str) -> str:
    """WeCom and DingTalk markdown: neither documents an escape, so a zero-width space after `<`
    breaks `<@userid>` mentions and `<font>`/HTML tags, and after `]` breaks `[text](url)` links
    and `![](img)` images. The reader sees the same characters."""
    return char + _ZWSP if char in "<]" else char


_SLACK_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _slack_char(char: str) -> str:
    # Slack's control characters, escaped as its "Formatting text" reference says; this is what
    # keeps user text from writing <!channel>, <@U…> or <url|label> links.
    return _SLACK_ENTITIES.get(char, char)


def _plain_char(char: str) -> str:
    return char


def _escape(text: str, escape_char: Callable[[str], str]) -> str:
    return "".join(escape_char(char) for char in text)


# --- the chat formats --------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChatFormat:
    limit: int  # of what `measure` measures
    cost: Callable[[str], int]  # what a piece of a line adds to the measure (additive)
    line_overhead: int  # what each line adds besides its own text (separator, JSON wrapping)
    escape_char: Callable[[str], str]
    prefix: Callable[[str, str], str]  # (HH:MM, escaped who) -> start of a message's first line
    body: Callable[[str, list[str]], dict]  # (title, lines) -> the JSON body
    measure: Callable[[dict], int]  # the exact quantity the tool's limit applies to


def _wecom() -> _ChatFormat:
    def body(title: str, lines: list[str]) -> dict:
        heading = f"**{_escape(title, _robot_markdown_char)}**"
        return {"msgtype": "markdown", "markdown": {"content": "\n".join([heading, *lines])}}

    return _ChatFormat(
        # markdown.content: "最长不超过4096个字节，必须是utf8编码" (WeCom 群机器人配置说明,
        # developer.work.weixin.qq.com/document/path/91770); longer is errcode 40058.
        limit=4096,
        cost=_utf8_len,
        line_overhead=1,  # "\n"
        escape_char=_robot_markdown_char,
        prefix=lambda hhmm, who: f'<font color="comment">{hhmm}</font> **{who}**: ',
        body=body,
        measure=lambda body: _utf8_len(body["markdown"]["content"]),
    )


# DingTalk's guide writes a line break as "  \n  "; a blank line (a paragraph) is unambiguous.
_DINGTALK_BREAK = "\n\n"


def _dingtalk() -> _ChatFormat:
    def body(title: str, lines: list[str]) -> dict:
        heading = f"**{_escape(title, _robot_markdown_char)}**"
        text = _DINGTALK_BREAK.join([heading, *lines])
        # markdown.title is what the conversation list shows; it is plain text.
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}

    return _ChatFormat(
        # DingTalk answers "body 大小不合法…请保持大小在 20000bytes 以内" (errcode 460101,
        # "message too long, exceed 20000 bytes"): the limit is on the whole request body.
        limit=20000,
        cost=_json_len,
        line_overhead=_json_len(_DINGTALK_BREAK),
        escape_char=_robot_markdown_char,
        prefix=lambda hhmm, who: f"{hhmm} **{who}**: ",
        body=body,
        measure=lambda body: len(_dumps(body)),
    )


_FEISHU_PARAGRAPH = len('[{"tag":"text","text":""}],')


def _feishu(signature: dict[str, str]) -> _ChatFormat:
    def body(title: str, lines: list[str]) -> dict:
        # Post "text" elements are shown as they are (mentions are separate "at" elements), so
        # user text needs no escaping here.
        paragraphs = [[{"tag": "text", "text": line}] for line in lines]
        post = {"zh_cn": {"title": title, "content": paragraphs}}
        return {**signature, "msg_type": "post", "content": {"post": post}}

    return _ChatFormat(
        # "发送消息时，请求体的数据大小不能超过 20 KB" (Feishu 自定义机器人使用指南); 20000 is
        # within 20 KB whichever way a KB is read.
        limit=20000,
        cost=_json_len,
        line_overhead=_FEISHU_PARAGRAPH,
        escape_char=_plain_char,
        prefix=lambda hhmm, who: f"{hhmm} {who}: ",
        body=body,
        measure=lambda body: len(_dumps(body)),
    )


def _slack() -> _ChatFormat:
    def body(title: str, lines: list[str]) -> dict:
        title = _escape(title, _slack_char)
        text = "\n".join([f"*{title}*", *lines])
        section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        return {"text": title, "blocks": [section]}

    return _ChatFormat(
        # Block Kit section block: "text … Maximum length for the text in this field is 3000
        # characters" (api.slack.com/reference/block-kit/blocks#section); more is a 400.
        limit=3000,
        cost=_utf16_len,
        line_overhead=1,  # "\n"
        escape_char=_slack_char,
        prefix=lambda hhmm, who: f"`{hhmm}` *{who}*: ",
        body=body,
        measure=lambda body: _utf16_len(body["blocks"][0]["text"]["text"]),
    )


# --- coalescing and splitting ------------------------------------------------------------------

# A message's lines; each line a list of tokens that are never cut (one escaped character, or
# the message's prefix), so a hard split never breaks a character or an escape.
_Entry = list[list[str]]


def _entry(fmt: _ChatFormat, message: OutgoingMessage, zone: ZoneInfo) -> _Entry:
    hhmm = message.created_at.astimezone(zone).strftime("%H:%M")
    who = _escape(_name(_who(message)), fmt.escape_char)
    lines = [[fmt.escape_char(char) for char in line] for line in _clean(message.text).split("\n")]
    lines[0].insert(0, fmt.prefix(hhmm, who))
    return lines


def _pack(entries: list[_Entry], fmt: _ChatFormat, budget: int) -> list[list[str]]:
    """Lines into parts of at most `budget`: a message starts a new part when that keeps it
    whole, a line when that keeps it whole, and only a line bigger than a part is cut."""
    parts: list[list[str]] = []
    current: list[str] = []
    used = 0

    def flush() -> None:
        nonlocal current, used
        if current:
            parts.append(current)
        current, used = [], 0

    for entry in entries:
        costs = [fmt.line_overhead + fmt.cost("".join(tokens)) for tokens in entry]
        if current and used + sum(costs) > budget >= sum(costs):
            flush()
        for tokens, cost in zip(entry, costs, strict=True):
            if used + cost > budget and current and cost <= budget:
                flush()
            if used + cost <= budget:
                current.append("".join(tokens))
                used += cost
                continue
            for piece in _cut(tokens, fmt, first_room=budget - used, room=budget):
                if current and used + fmt.line_overhead + fmt.cost(piece) > budget:
                    flush()
                current.append(piece)
                used += fmt.line_overhead + fmt.cost(piece)
    flush()
    return parts


def _cut(tokens: list[str], fmt: _ChatFormat, *, first_room: int, room: int) -> list[str]:
    """A line too big for a part, cut between tokens: the first piece fills what is left of
    the current part, the others a whole part each."""
    fits = room - fmt.line_overhead
    known: dict[str, int] = {}  # tokens are mostly single characters, seen again and again

    def cost(token: str) -> int:
        if token not in known:
            known[token] = fmt.cost(token)
        return known[token]

    flat: list[str] = []
    for token in tokens:
        # Only a prefix can be bigger than a part (absurdly long names): cut it into characters.
        flat.extend(token if cost(token) > fits else [token])
    pieces: list[str] = []
    piece: list[str] = []
    left = first_room - fmt.line_overhead
    for token in flat:
        if cost(token) > left:
            if piece:
                pieces.append("".join(piece))
            piece, left = [], fits
        piece.append(token)
        left -= cost(token)
    if piece:
        pieces.append("".join(piece))
    return pieces


def _marker(number: int, total: int) -> str:
    return f" ({number}/{total})"


def _split(fmt: _ChatFormat, title: str, entries: list[_Entry]) -> list[tuple[str, list[str]]]:
    """(title, lines) of each request; titles are marked "(1/3)" … when there are several."""
    whole = _pack(entries, fmt, fmt.limit - fmt.measure(fmt.body(title, [])))
    if len(whole) == 1:
        return [(title, whole[0])]
    # Leave room for the widest marker; more parts than its digits allow means a wider one.
    digits = len(str(len(whole)))
    while True:
        widest = _marker(10**digits - 1, 10**digits - 1)
        parts = _pack(entries, fmt, fmt.limit - fmt.measure(fmt.body(title + widest, [])))
        if len(str(len(parts))) <= digits:
            break
        digits = len(str(len(parts)))
    return [(title + _marker(i, len(parts)), lines) for i, lines in enumerate(parts, 1)]


# --- signing -----------------------------------------------------------------------------------


def _dingtalk_signed_url(url: str, secret: str, now: datetime) -> str:
    # DingTalk 加签: timestamp in ms; HmacSHA256 keyed by the secret over "timestamp\nsecret",
    # Base64, then URL-encoded, appended as &timestamp=…&sign=… (自定义机器人安全设置).
    timestamp = (now - _EPOCH) // timedelta(milliseconds=1)
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def _feishu_signature(secret: str, now: datetime) -> dict[str, str]:
    # Feishu 签名校验: timestamp in seconds; "timestamp\nsecret" is the HmacSHA256 *key* over an
    # empty message, Base64; both go in the body.
    timestamp = int(now.timestamp())
    key = f"{timestamp}\n{secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": str(timestamp), "sign": sign}


# --- requests ----------------------------------------------------------------------------------


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
    _check_type(channel_type)
    now = _utc(now)
    if not messages:
        return []
    if channel_type == "webhook":
        if not secret:
            raise ValueError("a webhook channel is signed: it needs its whsec_ secret")
        return [_webhook_request(url, secret, message, now) for message in messages]

    if channel_type == "wecom_robot":
        fmt = _wecom()
    elif channel_type == "dingtalk_robot":
        fmt = _dingtalk()
        url = _dingtalk_signed_url(url, secret, now) if secret else url
    elif channel_type == "feishu_robot":
        fmt = _feishu(_feishu_signature(secret, now) if secret else {})
    else:
        fmt = _slack()

    zone = _zone(timezone)
    entries = [_entry(fmt, message, zone) for message in messages]
    # The newest message carries the group's current name.
    title = _name(messages[-1].group_name)
    return [
        HttpRequest(url=url, headers=dict(_CHAT_HEADERS), body=_dumps(fmt.body(part, lines)))
        for part, lines in _split(fmt, title, entries)
    ]


def _webhook_request(url: str, secret: str, message: OutgoingMessage, now: datetime) -> HttpRequest:
    body = {
        "type": "message.posted",
        "timestamp": _iso(now),
        "data": {
            "group": {"id": message.group_id, "name": message.group_name},
            "message": {
                "id": message.message_id,
                "kind": message.kind,
                "sender": message.sender,
                "sender_name": message.sender_name,
                "text": message.text,
                "payload": message.payload,
                "created_at": _iso(message.created_at),
            },
        },
    }
    payload = _dumps(body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message.key,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message.key, now, payload.decode()),
    }
    return HttpRequest(url=url, headers=headers, body=payload)


# --- replies -----------------------------------------------------------------------------------

# Answers on HTTP 200 that mean "too fast": WeCom 45009 (api freq out of limit), DingTalk 130101
# (send too fast; 20 a minute per robot), Feishu 11232 (自定义机器人使用指南: 100 a minute, 5 a
# second per robot).
_RATE_LIMIT_CODES = {"wecom_robot": {45009}, "dingtalk_robot": {130101}, "feishu_robot": {11232}}


def read_reply(
    channel_type: str, status_code: int, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> Reply:
    """What one answer means: only 2xx (and, from robots, a zero code) is a success."""
    _check_type(channel_type)
    retry_after = _retry_after(_header(headers, "retry-after"), _utc(now))
    if 200 <= status_code < 300:
        if channel_type in ("slack", "webhook"):
            return Reply(ok=True)
        return _robot_answer(channel_type, body, retry_after)

    code, reason = _reason(body)
    if 300 <= status_code < 400:
        reason = "redirect not followed"
    error = f"HTTP {status_code}: {reason}" if reason else f"HTTP {status_code}"
    error = _short(error, _ERROR_LIMIT)
    if status_code == 410:
        return Reply(ok=False, gone=True, error=error)
    rate_limited = status_code == 429 or code in _RATE_LIMIT_CODES.get(channel_type, ())
    return Reply(ok=False, rate_limited=rate_limited, retry_after=retry_after, error=error)


def _robot_answer(channel_type: str, body: bytes, retry_after: float | None) -> Reply:
    try:
        answer = json.loads(body)
    except ValueError:
        return Reply(ok=False, error="HTTP 200 but not JSON")
    result = _code_of(answer)
    if result is None:
        return Reply(ok=False, error="HTTP 200 but no result code in the answer")
    field, code, message = result
    if code == 0:
        return Reply(ok=True)
    error = _short(_describe(field, code, message), _ERROR_LIMIT)
    if code in _RATE_LIMIT_CODES[channel_type]:
        return Reply(ok=False, rate_limited=True, retry_after=retry_after, error=error)
    return Reply(ok=False, error=error)


# WeCom/DingTalk answer {"errcode", "errmsg"}; Feishu {"code", "msg"} and, for old callers,
# {"StatusCode", "StatusMessage"}.
_CODE_FIELDS = (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage"))


def _code_of(answer: object) -> tuple[str, int, str | None] | None:
    """(field, code, message) of a robot's answer, if it has a result code."""
    if not isinstance(answer, dict):
        return None
    for code_field, message_field in _CODE_FIELDS:
        code = answer.get(code_field)
        if isinstance(code, str) and code.lstrip("-").isdigit():
            code = int(code)
        if isinstance(code, int) and not isinstance(code, bool):
            message = answer.get(message_field)
            return code_field, code, _brief(message) if isinstance(message, str) else None
    return None


def _describe(field: str, code: int, message: str | None) -> str:
    label = "errcode" if field == "errcode" else "code"
    return f"{label} {code}: {message}" if message else f"{label} {code}"


def _brief(message: str) -> str:
    # Robots append hints, client IPs and doc links: "invalid webhook url, hint: [...], from ip:
    # ..., more info at https://...". The log wants the reason.
    for tail in (", hint", ", more info", ", more:", ";solution", " more info"):
        message = message.split(tail, 1)[0]
    return _short(message.strip(), 120)


def _reason(body: bytes) -> tuple[int | None, str | None]:
    """A failed answer's code and short reason: a robot's JSON, Slack's text ("no_service",
    "channel_is_archived"), nothing from an HTML error page."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None
    try:
        answer = json.loads(text)
    except ValueError:
        first_line = text.splitlines()[0].strip()
        return None, (None if "<" in first_line else _short(first_line, 100))
    result = _code_of(answer)
    if result is not None:
        return result[1], _describe(*result)
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return None, _short(answer["error"], 100)
    return None, None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delay-seconds or an HTTP-date; garbage is ignored."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- secrets -----------------------------------------------------------------------------------

_WHSEC = "whsec_"
_DINGTALK_SECRET = re.compile(r"SEC[0-9A-Za-z]{1,197}")


def validate_secret(channel_type: str, secret: str | None) -> str | None:
    """The secret to store for a channel of this type, or Invalid naming the field `secret`.
    For `webhook`, None means the caller generates one (new_webhook_secret)."""
    _check_type(channel_type)
    secret = secret.strip() if secret else None
    if not secret:
        return None
    if channel_type in ("wecom_robot", "slack"):
        raise Invalid.field("secret", "This channel type has no secret; leave it out.")
    if channel_type == "webhook":
        return _valid_whsec(secret)
    if channel_type == "dingtalk_robot":
        if not _DINGTALK_SECRET.fullmatch(secret):
            raise Invalid.field("secret", "A DingTalk robot secret starts with SEC.")
        return secret
    if len(secret) > 200 or not secret.isprintable():
        raise Invalid.field("secret", "A Feishu robot secret is at most 200 printable characters.")
    return secret


def _valid_whsec(secret: str) -> str:
    reason = "A webhook secret is whsec_ followed by base64 of 24 to 64 random bytes."
    if not secret.startswith(_WHSEC):
        raise Invalid.field("secret", reason)
    encoded = secret.removeprefix(_WHSEC)
    try:
        # Unpadded base64 is accepted, as the Standard Webhooks libraries accept it.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid.field("secret", reason) from None
    # Standard Webhooks: a symmetric secret is random, at least 24 bytes, at most 64.
    if not 24 <= len(key) <= 64:
        raise Invalid.field("secret", reason)
    return _WHSEC + base64.b64encode(key).decode()


def new_webhook_secret() -> str:
    return _WHSEC + base64.b64encode(secrets.token_bytes(24)).decode()


def excerpt(body: bytes, limit: int = 500) -> str:
    """An answer's body for the delivery log."""
    # PostgreSQL text cannot hold NUL.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:limit]


# --- small things ------------------------------------------------------------------------------


def _check_type(channel_type: str) -> None:
    if channel_type not in CHANNEL_TYPES:
        raise ValueError(f"unknown channel type {channel_type!r}")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A push is not the place to refuse a chain's setting; times then read in UTC.
        return ZoneInfo("UTC")


def _who(message: OutgoingMessage) -> str:
    if message.sender_name:
        return message.sender_name
    return {"system": "System", "customer": "Customer"}.get(message.sender, "Member")


def _name(name: str) -> str:
    """A name as titles and message lines show it: one line, not too long."""
    return _clean(_short(" ".join(name.split()), _NAME_LIMIT))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(text: str) -> str:
    # A lone surrogate cannot be sent as UTF-8.
    return text.encode("utf-8", errors="replace").decode()
