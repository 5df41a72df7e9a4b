"""What a group template lets through: blocked words, and contact details that would let a
customer be taken off the platform (mobile numbers, e-mail addresses)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from service.errors import Reason
from service.groups.models import GroupTemplate

# A mainland mobile (optionally +86) or any run of 8+ digits with separators; an e-mail.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)|\+\d(?:[\s-]?\d){7,14}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

BLOCKED_WORD = "Contains the blocked word {word!r}."
MOBILE_NUMBER = "Contains a mobile number."
EMAIL_ADDRESS = "Contains an e-mail address."
# A blocked word's reason as it is stored: the word as Python's repr quotes it.
_STORED_WORD = re.compile(r"Contains the blocked word (?P<word>'.*'|\".*\")\.", re.S)


@dataclass(frozen=True)
class Verdict:
    action: str  # "allow", "warn" or "block"
    reason: Reason | None = None


def judge(template: GroupTemplate, text: str) -> Verdict:
    """The strictest verdict the template's rules give `text`."""
    folded = text.casefold()
    warning = None
    for rule in template.blocked_words:
        if rule["word"].casefold() in folded:
            reason = Reason(BLOCKED_WORD, word=rule["word"])
            if rule["action"] == "block":
                return Verdict("block", reason)
            warning = warning or reason
    if template.contact_action != "allow":
        found = (
            MOBILE_NUMBER if _MOBILE.search(text) else
            EMAIL_ADDRESS if _EMAIL.search(text) else None
        )  # fmt: skip
        if found:
            reason = Reason(found)
            if template.contact_action == "block":
                return Verdict("block", reason)
            warning = warning or reason
    return Verdict("warn", warning) if warning else Verdict("allow")


def stored_reason(text: str | None) -> str | None:
    """A message's flag reason as it is stored (plain English), with its word given back as
    the Reason it was made as."""
    blocked = _STORED_WORD.fullmatch(text or "")
    try:
        word = ast.literal_eval(blocked["word"]) if blocked else None
    except (ValueError, SyntaxError):  # quotes that no repr wrote
        word = None
    return Reason(BLOCKED_WORD, word=word) if isinstance(word, str) else text


def auto_reply(template: GroupTemplate, text: str) -> str | None:
    """The reply of the first keyword rule that `text` mentions."""
    folded = text.casefold()
    for rule in template.auto_replies:
        if rule["keyword"].casefold() in folded:
            return rule["reply"]
    return None
