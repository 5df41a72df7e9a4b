"""A group's history as JSON lines or CSV, one message at a time, for archives of any size."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from service.groups.models import Message
from service.spreadsheets import csv_lines

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


def as_csv(messages: Iterable[Message]) -> Iterator[str]:
    def records():
        for message in messages:
            record = _record(message)
            payload = record["payload"]
            record["payload"] = json.dumps(payload, ensure_ascii=False) if payload else ""
            yield record

    return csv_lines(COLUMNS, records())


FORMATS = {"jsonl": as_jsonl, "csv": as_csv}
