"""CSV for spreadsheets: cells a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

# OWASP's rule against CSV (formula) injection: a spreadsheet runs a cell that starts with one
# of these as a formula; a leading single quote makes it text again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """A cell as a spreadsheet may open it safely."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(columns: Sequence[str], records: Iterable[dict]) -> Iterator[str]:
    """A header and a line per record (a dict by column name), each cell neutralised, as
    they are written: for exports of any size."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({key: neutralised(value) for key, value in record.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
