"""What a receiver's answer means: success, too fast (and for how long), gone, or failed with
a short reason for the delivery log."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from service.notify.formats.outgoing import Reply, short, utc

_ERROR_LIMIT = 200


def read(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    answers_with_code: bool,
    rate_limit_codes: frozenset[int],
) -> Reply:
    """What one answer means: only 2xx (and, from a tool that answers with a result code, a
    zero code) is a success."""
    retry_after = _retry_after(_header(headers, "retry-after"), utc(now))
    if 200 <= status_code < 300:
        if not answers_with_code:
            return Reply(ok=True)
        return _robot_answer(body, retry_after, rate_limit_codes)

    code, reason = _reason(body)
    if 300 <= status_code < 400:
        reason = "redirect not followed"
    error = f"HTTP {status_code}: {reason}" if reason else f"HTTP {status_code}"
    error = short(error, _ERROR_LIMIT)
    if status_code == 410:
        return Reply(ok=False, gone=True, error=error)
    rate_limited = status_code == 429 or code in rate_limit_codes
    return Reply(ok=False, rate_limited=rate_limited, retry_after=retry_after, error=error)


def _robot_answer(
    body: bytes, retry_after: float | None, rate_limit_codes: frozenset[int]
) -> Reply:
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
    error = short(_describe(field, code, message), _ERROR_LIMIT)
    if code in rate_limit_codes:
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
    return short(message.strip(), 120)


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
        return None, (None if "<" in first_line else short(first_line, 100))
    result = _code_of(answer)
    if result is not None:
        return result[1], _describe(*result)
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return None, short(answer["error"], 100)
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


def excerpt(body: bytes, limit: int = 500) -> str:
    """An answer's body for the delivery log."""
    # PostgreSQL text cannot hold NUL.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:limit]
