"""JSON request bodies, read the same guarded way by every JSON door (the brand API, the
factories' webhooks): installed once as the app's JSON provider, which Flask's get_json,
`request.json_module` and the brand API's argument parser all go through.

- Nesting deeper than MAX_DEPTH is a 400, found by a scan that does not recurse, before the
  parser (which does recurse) sees the body.
- Text that no column can hold is a 422 naming its field: NUL, and lone UTF-16 surrogates
  (`"\\ud800"`, which the parser lets through), in any string, keys included.
- Numbers no column can hold are a 422 naming their field: integers beyond 64 bits (thousands
  of digits would otherwise stop the parser with Python's int-from-text limit), and NaN,
  Infinity or floats that overflow to infinity.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, UnprocessableEntity

MAX_DEPTH = 64
_INT_LIMIT = 2**63  # BIGINT, the widest integer column

# A JSON string, escapes included; what is outside strings is structure. One left open runs
# to the end of the text (the parser refuses it later): were it to fail to match instead,
# the scan would start again inside it at every quote, in quadratic time.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")

NUL_REASON = "Must not contain NUL characters."
SURROGATE_REASON = "Must not contain lone UTF-16 surrogates (not valid Unicode text)."
NUMBER_REASON = "Out of range: integers must fit in 64 bits."
NOT_FINITE_REASON = "Must be a finite number."


class _Unstorable:
    """Stands in, while parsing, for a number no column can hold; reported with its path."""

    def __init__(self, reason: str):
        self.reason = reason


def _parse_int(text: str):
    digits = len(text) - text.startswith("-")
    if digits > 19 or not -_INT_LIMIT <= int(text) < _INT_LIMIT:
        return _Unstorable(NUMBER_REASON)
    return int(text)


def _parse_float(text: str):
    value = float(text)
    return value if value - value == 0 else _Unstorable(NOT_FINITE_REASON)


def _parse_constant(_name: str):
    return _Unstorable(NOT_FINITE_REASON)


def depth_of(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text, without recursion."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    steps = (1 if bracket in "[{" else -1 for bracket in brackets)
    return max(accumulate(steps, initial=0))


def _shown(key: str) -> str:
    # A field name is echoed back: its unstorable characters as escapes, not raw.
    return _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", key)


def _text_reason(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_REASON if found.group() == "\x00" else SURROGATE_REASON


def bad_values(document: Any) -> dict[str, list[str]]:
    """Field path ('name', 'items[0].description', 'events[2]') → reasons, for every value
    or key no column can hold. Iterative: the document is already bounded in depth, but a
    wide one must not cost a frame per value."""
    found: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_shown(key)}" if path else _shown(key)
                reason = _text_reason(key)
                if reason:
                    found.setdefault(child, []).append(reason)
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str):
            reason = _text_reason(value)
            if reason:
                found.setdefault(path or "_body", []).append(reason)
        elif isinstance(value, _Unstorable):
            found.setdefault(path or "_body", []).append(value.reason)
    return dict(sorted(found.items()))


class TooDeep(BadRequest):
    description = f"The JSON body nests deeper than {MAX_DEPTH} levels."


class UnstorableValues(UnprocessableEntity):
    """Rendered by the API's HTTP error handler like a schema's errors: details.fields."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__()
        self.data = {"messages": {"json": fields}}


def loads(data: str | bytes) -> Any:
    """json.loads for request bodies. Raises ValueError (a JSONDecodeError, or a
    UnicodeDecodeError for bytes that are not UTF-8) for what is not JSON, as json.loads does,
    and the HTTP errors above for JSON that is refused."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if depth_of(text) > MAX_DEPTH:
        raise TooDeep()
    unstorable_numbers = []

    def flagged(parse):
        def parse_and_flag(literal: str):
            value = parse(literal)
            if isinstance(value, _Unstorable):
                unstorable_numbers.append(value)
            return value

        return parse_and_flag

    document = json.loads(
        text,
        parse_int=flagged(_parse_int),
        parse_float=flagged(_parse_float),
        parse_constant=flagged(_parse_constant),
    )
    # Walking the document costs more than parsing it: only when something may be wrong. A
    # valid JSON text holds NUL or a surrogate only as a \u escape.
    if unstorable_numbers or _UNSTORABLE_ESCAPE.search(text):
        bad = bad_values(document)
        if bad:
            raise UnstorableValues(bad)
    return document


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with loads() above; writing is unchanged."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s) if not kwargs else super().loads(s, **kwargs)
