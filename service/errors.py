"""Domain exceptions. The doors map them to status codes in one place each."""

from __future__ import annotations


class Reason(str):
    """A reason in the English every door is given, which keeps the sentence it was made from
    and what was put in it, so that a door speaking another language can say it its own way.
    It is the English text wherever a string goes (JSON, the database)."""

    sentence: str
    params: dict

    def __new__(cls, sentence: str, **params):
        reason = super().__new__(cls, sentence.format(**params))
        reason.sentence = sentence
        reason.params = params
        return reason

    def __getnewargs_ex__(self):  # copied or pickled, it is made again from its sentence
        return (self.sentence,), self.params


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule; details name the field."""

    status = 422
    code = "invalid"

    @classmethod
    def field(cls, name: str, reason: str) -> Invalid:
        return cls(f"{name}: {reason}", details={"fields": {name: [reason]}})


class FieldErrors:
    """Bad fields found one at a time, reported together: a client fixes a request once, not
    once per field."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, reason: str) -> None:
        self.fields.setdefault(name, []).append(reason)

    def absorb(self, error: Invalid) -> None:
        for name, reasons in error.details.get("fields", {}).items():
            for reason in reasons:
                self.add(name, reason)

    def raise_any(self) -> None:
        if len(self.fields) == 1:
            [(name, [reason, *_])] = self.fields.items()
            raise Invalid(f"{name}: {reason}", details={"fields": self.fields})
        if self.fields:
            names = ", ".join(self.fields)
            raise Invalid(f"Some fields are not valid: {names}.", details={"fields": self.fields})


def no_such(thing: str, *, field: str | None = None) -> DomainError:
    """A thing that is not in the chain: 404 when the URL path named it, 422 naming the field
    when a body or query string did (the request is wrong, not the address)."""
    message = f"No such {thing}."
    return Invalid.field(field, message) if field else NotFound(message)


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Gone(DomainError):
    status = 410
    code = "gone"
