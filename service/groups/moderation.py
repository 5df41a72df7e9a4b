"""What a group template lets through: blocked words, and contact details that would let a
customer be taken off the platform (mobile numbers, e-mail addresses)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.groups.models import GroupTemplate

# A mainland mobile (optionally +86) or any run of 8+ digits with separators; an e-mail.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)|\+\d(?:[\s-]?\d){7,14}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Verdict:
    action: str  # "allow", "warn" or "block"
    reason: str | None = None


def judge(template: GroupTemplate, text: str) -> Verdict:
    """The strictest verdict the template's rules give `text`."""
    folded = text.casefold()
    warning = None
    for rule in template.blocked_words:
        if rule["word"].casefold() in folded:
            reason = f"Contains the blocked word {rule['word']!r}."
            if rule["action"] == "block":
                return Verdict("block", reason)
            warning = warning or reason
    if template.contact_action != "allow":
        found = (
            "a mobile number" if _MOBILE.search(text) else
            "an e-mail address" if _EMAIL.search(text) else None
        )  # fmt: skip
        if found:
            reason = f"Contains {found}."
            if template.contact_action == "block":
                return Verdict("block", reason)
            warning = warning or reason
    return Verdict("warn", warning) if warning else Verdict("allow")


def auto_reply(template: GroupTemplate, text: str) -> str | None:
    """The reply of the first keyword rule that `text` mentions."""
    folded = text.casefold()
    for rule in template.auto_replies:
        if rule["keyword"].casefold() in folded:
            return rule["reply"]
    return None
