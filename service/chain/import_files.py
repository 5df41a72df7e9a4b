"""Reading an import's file: JSON (a list of organisations, or {"organisations": [...]}) or
CSV (one line per member), into ImportRows that the import checks one by one."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from service.errors import Invalid
from service.text_files import NotUtf8, utf8_text

CSV_REQUIRED = ("custom_id", "kind", "name")
CSV_COLUMNS = (
    *CSV_REQUIRED,
    "groups",
    "member_name",
    "member_role",
    "member_mobile",
    "member_email",
)


@dataclass
class ImportRow:
    """One organisation to import. `row` is its position in the file (CSV: its first line);
    from a CSV file, each member carries its own line number in `_row`."""

    row: int
    data: dict
    # Only the CSV reader's `_row`s are ours; in JSON, `_row` is whatever the client sent.
    from_csv: bool = False


def rows_from_json(payload) -> list[ImportRow]:
    """`{"organisations": [...]}` or a bare list; row numbers count from 1."""
    if isinstance(payload, dict):
        payload = payload.get("organisations")
    if not isinstance(payload, list):
        raise Invalid.field("organisations", "Must be a list of organisations.")
    return [ImportRow(number, entry) for number, entry in enumerate(payload, start=1)]


def _csv_text(data: bytes | str) -> str:
    """A CSV file's text: UTF-8 (a BOM allowed), or a 422 naming the first line that is not."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return utf8_text(data)
    except NotUtf8 as error:
        reason = f"Line {error.line} is not UTF-8 text; save the file as UTF-8."
        raise _bad_file(error.line, reason) from None


def _bad_file(line: int, reason: str) -> Invalid:
    return Invalid(reason, details={"line": line, "fields": {"file": [reason]}})


def rows_from_csv(data: bytes | str) -> list[ImportRow]:
    """One line per member; an organisation's columns repeat on each of its lines (an
    organisation without members has one line with empty member columns). Row numbers are
    line numbers, the header being line 1. `groups` holds paths separated by ';'."""
    reader = csv.DictReader(io.StringIO(_csv_text(data)))
    try:
        return _rows_of(reader)
    except csv.Error as error:
        # A field over csv's size limit (128 KiB), or a file csv cannot read: name the line.
        # csv counts a line once it has read it whole; the error came from the next one.
        line = reader.line_num + 1
        raise _bad_file(line, f"Line {line} cannot be read as CSV: {error}.") from None


def _rows_of(reader: csv.DictReader) -> list[ImportRow]:
    missing = [name for name in CSV_REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(
            f"The CSV header lacks {', '.join(missing)}.",
            details={"fields": {"header": [f"Expected columns: {', '.join(CSV_COLUMNS)}."]}},
        )
    by_custom_id: dict[str, ImportRow] = {}
    rows: list[ImportRow] = []
    for line in reader:
        number = reader.line_num
        line = {key: (value or "").strip() for key, value in line.items() if key}
        key = line["custom_id"]
        current = by_custom_id.get(key) if key else None
        if current is None:
            groups = [path for path in line.get("groups", "").split(";") if path.strip()]
            current = ImportRow(
                number,
                {"custom_id": key, "kind": line["kind"], "name": line["name"],
                 "groups": groups, "members": []},
                from_csv=True,
            )  # fmt: skip
            rows.append(current)
            if key:
                by_custom_id[key] = current
        if any(line.get(f"member_{part}") for part in ("name", "role", "mobile", "email")):
            current.data["members"].append(
                {
                    "_row": number,
                    "name": line.get("member_name", ""),
                    "role": line.get("member_role", ""),
                    "mobile": line.get("member_mobile") or None,
                    "email": line.get("member_email") or None,
                }
            )
    return rows
