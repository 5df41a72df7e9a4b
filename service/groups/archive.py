"""A group's history as JSON lines or CSV, one message at a time, for archives of any size."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from service.groups.models import Message

COLUMNS = ("id", "group_id", "created_at", "sender", "sender_member_id", "kind", "text",
           "flagged", "flag_reason", "client_message_id", "payload")  # fmt: skip
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def _record(message: Message) -> dict:
    return {
        "id": str(message.id),
        "group_id": str(message.group_id),
        "created_at": message.created_at.isoformat(),
        "sender": message.sender,
        "sender_member_id": str(message.sender_member_id) if message.sender_member_id else None,
        "kind": message.kind,
        "text": message.text,
        "flagged": message.flagged,
        "flag_reason": message.flag_reason,
        "client_message_id": message.client_message_id,
        "payload": message.payload,
    }


def as_jsonl(messages: Iterable[Message]) -> Iterator[str]:
    for message in messages:
        yield json.dumps(_record(message), ensure_ascii=False) + "\n"


# OWASP's rule against CSV (formula) injection: a spreadsheet runs a cell that starts with one
# of these as a formula; a leading single quote makes it text again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """A cell as a spreadsheet may open it safely."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(messages: Iterable[Message]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for message in messages:
        record = _record(message)
        record["payload"] = (
            json.dumps(record["payload"], ensure_ascii=False) if record["payload"] else ""
        )
        writer.writerow({key: neutralised(value) for key, value in record.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


FORMATS = {"jsonl": as_jsonl, "csv": as_csv}
