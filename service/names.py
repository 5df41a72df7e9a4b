"""Names people give things (organisations, members, customers, groups, templates, channels):
normalised so that what is stored is what a reader sees, and refused when nothing would show.

- Unicode NFC, so that one name typed two ways is one name;
- invisible format characters removed: bidirectional controls (U+202A–U+202E, U+2066–U+2069,
  U+200E/U+200F, U+061C), zero-width spaces, word joiners, BOMs, soft hyphens. The zero-width
  (non-)joiners U+200C/U+200D stay: emoji sequences and some scripts need them;
- every run of whitespace (tabs and line breaks included) becomes one space, trimmed;
- any other control character is refused, and so is a name with no letter, digit,
  punctuation or symbol left.
"""

from __future__ import annotations

import unicodedata

# Format characters (Cf) that shape how text joins, not which characters it holds.
_KEPT_FORMAT = frozenset("\u200c\u200d")
CONTROL_REASON = "Must not contain control characters."
INVISIBLE_REASON = "Must contain a visible character."


class BadName(ValueError):
    """The reason a name is refused, in words for the client."""


def normalise_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        char for char in name if unicodedata.category(char) != "Cf" or char in _KEPT_FORMAT
    )
    name = " ".join(name.split())
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise BadName(CONTROL_REASON)
    if not any(unicodedata.category(char)[0] in "LNPS" for char in name):
        raise BadName(INVISIBLE_REASON)
    return name
