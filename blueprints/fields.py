"""marshmallow fields that both JSON doors (the brand API, the factories' webhooks) read
their input with."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields

from service.db import as_utc


class Text(fields.String):
    """Text input. NUL is refused here: PostgreSQL cannot store it, and nobody means it."""

    default_error_messages: ClassVar[dict] = {"nul": "Must not contain NUL characters."}

    def __init__(self, *args, strip: bool = False, **kwargs):
        # strip: judge (and keep) the text without surrounding whitespace, as the domain does.
        super().__init__(*args, **kwargs)
        self.strip = strip

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text.strip() if self.strip else text


class UtcDateTime(fields.AwareDateTime):
    """A date and time with its offset, answered in UTC; refused when its UTC value falls
    outside the years 1–9999 (9999-12-31T23:59:59-14:00 is in year 10000 in UTC), which no
    column, and no Python datetime, can hold."""

    default_error_messages: ClassVar[dict] = {
        "out_of_range": "Out of range: in UTC it must fall within the years 1 to 9999."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        moment = as_utc(super()._deserialize(value, attr, data, **kwargs))
        if moment is None:
            raise self.make_error("out_of_range")
        return moment
