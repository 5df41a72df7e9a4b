"""What the chat tools (WeCom, Feishu, DingTalk, Slack) share: a burst of a group's messages
coalesced into one text in the tool's own markdown, split into several requests when it is
over the tool's documented limit, each part's title marked "(1/3)" … when there are several."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from service.errors import Invalid
from service.notify.formats.outgoing import (
    USER_AGENT,
    HttpRequest,
    OutgoingMessage,
    clean,
    dumps,
    name,
    who,
    zone,
)

HEADERS = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}


_ZWSP = "\u200b"


def robot_markdown_char(char: str) -> str:
    """WeCom and DingTalk markdown: neither documents an escape, so a zero-width space after `<`
    breaks `<@userid>` mentions and `<font>`/HTML tags, and after `]` breaks `[text](url)` links
    and `![](img)` images. The reader sees the same characters."""
    return char + _ZWSP if char in "<]" else char


def plain_char(char: str) -> str:
    return char


def escape(text: str, escape_char: Callable[[str], str]) -> str:
    return "".join(escape_char(char) for char in text)


@dataclass(frozen=True)
class ChatFormat:
    limit: int  # of what `measure` measures
    cost: Callable[[str], int]  # what a piece of a line adds to the measure (additive)
    line_overhead: int  # what each line adds besides its own text (separator, JSON wrapping)
    escape_char: Callable[[str], str]
    prefix: Callable[[str, str], str]  # (HH:MM, escaped who) -> start of a message's first line
    body: Callable[[str, list[str]], dict]  # (title, lines) -> the JSON body
    measure: Callable[[dict], int]  # the exact quantity the tool's limit applies to
    # (escaped name, url) -> an attachment's line: a link in the tool's markdown
    link: Callable[[str, str], str] = lambda name, url: f"{name}: {url}"


# --- coalescing and splitting ------------------------------------------------------------------

# A message's lines; each line a list of tokens that are never cut (one escaped character, or
# the message's prefix), so a hard split never breaks a character or an escape.
_Entry = list[list[str]]


def _entry(fmt: ChatFormat, message: OutgoingMessage, local: ZoneInfo) -> _Entry:
    hhmm = message.created_at.astimezone(local).strftime("%H:%M")
    sender = escape(name(who(message)), fmt.escape_char)
    text = clean(message.text)
    lines = [[fmt.escape_char(char) for char in line] for line in text.split("\n")] if text else []
    # A photo or file goes as a link to the portal's download, which asks for a sign-in.
    for attachment in (message.payload or {}).get("attachments", []):
        label = escape(name(str(attachment.get("name", ""))), fmt.escape_char)
        lines.append([fmt.link(label, clean(str(attachment.get("url", ""))))])
    lines = lines or [[]]
    lines[0].insert(0, fmt.prefix(hhmm, sender))
    return lines


def _pack(entries: list[_Entry], fmt: ChatFormat, budget: int) -> list[list[str]]:
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


def _cut(tokens: list[str], fmt: ChatFormat, *, first_room: int, room: int) -> list[str]:
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


def _split(fmt: ChatFormat, title: str, entries: list[_Entry]) -> list[tuple[str, list[str]]]:
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


def chat_requests(
    fmt: ChatFormat, url: str, messages: list[OutgoingMessage], *, timezone: str
) -> list[HttpRequest]:
    """The requests that push `messages` (oldest first) to one chat tool, in order."""
    local = zone(timezone)
    entries = [_entry(fmt, message, local) for message in messages]
    # The newest message carries the group's current name.
    title = name(messages[-1].group_name)
    return [
        HttpRequest(url=url, headers=dict(HEADERS), body=dumps(fmt.body(part, lines)))
        for part, lines in _split(fmt, title, entries)
    ]


def no_secret(secret: str) -> str:
    raise Invalid.field("secret", "This channel type has no secret; leave it out.")
