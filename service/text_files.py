"""The text of a file a person sends (an import): UTF-8, with or without a byte-order mark."""

from __future__ import annotations


class NotUtf8(ValueError):
    """The file is not UTF-8; `line` is the first line that is not (from 1)."""

    def __init__(self, line: int):
        super().__init__(f"Line {line} is not UTF-8.")
        self.line = line


def utf8_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotUtf8(data.count(b"\n", 0, error.start) + 1) from None
