"""Checking one row of an import, an organisation or one of its members, on its own: a bad
value is a RowError naming the field, and only that row (or member) is left out."""

from __future__ import annotations

from marshmallow import ValidationError
from marshmallow.validate import Email

from service.chain.directory_groups import split_path
from service.chain.members import normalise_email
from service.chain.mobiles import normalise_mobile
from service.chain.models import MemberRole
from service.errors import Invalid
from service.names import BadName, normalise_name

KINDS = ("dealer", "factory")
ROLES = frozenset(MemberRole)
_valid_email = Email()
# PostgreSQL cannot store NUL in text: refuse it as a bad value, not fail on it.
NUL = "\x00"
NUL_REASON = "Must not contain NUL characters."


class RowError(Exception):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _name(data: dict, name: str) -> str:
    """A name, normalised as the API's names are (service.names)."""
    try:
        value = normalise_name(_text(data, name, max_length=200))
    except BadName as error:
        raise RowError(name, str(error)) from None
    if len(value) > 200:  # NFC may lengthen it
        raise RowError(name, "Longer than 200 characters.")
    return value


def _text(data: dict, name: str, *, max_length: int, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(name, "Missing.")
        return None
    if not isinstance(value, str):
        raise RowError(name, "Must be text.")
    if NUL in value:
        raise RowError(name, NUL_REASON)
    value = value.strip()
    if len(value) > max_length:
        raise RowError(name, f"Longer than {max_length} characters.")
    return value


def check_organisation(data) -> dict:
    if not isinstance(data, dict):
        raise RowError("_row", "Must be an object.")
    kind = _text(data, "kind", max_length=16)
    if kind not in KINDS:
        raise RowError("kind", "Must be 'dealer' or 'factory'.")
    groups = data.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(path, str) for path in groups):
        raise RowError("groups", "Must be a list of paths like 'East/Shanghai'.")
    for path in groups:
        if NUL in path:
            raise RowError("groups", NUL_REASON)
        try:
            split_path(path)
        except Invalid as error:
            raise RowError("groups", error.details["fields"]["path"][0]) from None
    members = data.get("members") or []
    if not isinstance(members, list):
        raise RowError("members", "Must be a list.")
    return {
        "custom_id": _text(data, "custom_id", max_length=100),
        "kind": kind,
        "name": _name(data, "name"),
        "groups": list(dict.fromkeys(path.strip().strip("/") for path in groups)),
        "members": members,
    }


def check_member(data) -> dict:
    if not isinstance(data, dict):
        raise RowError("members", "Each member must be an object.")
    role = _text(data, "role", max_length=32)
    if role not in ROLES:
        raise RowError("role", f"Must be one of: {', '.join(MemberRole)}.")
    mobile = _text(data, "mobile", max_length=32, required=False)
    if mobile:
        try:
            mobile = normalise_mobile(mobile)
        except Invalid as error:
            raise RowError("mobile", error.details["fields"]["mobile"][0]) from None
    email = _text(data, "email", max_length=254, required=False)
    if email:
        email = normalise_email(email)
        try:
            _valid_email(email)
        except ValidationError:
            raise RowError("email", "Not a valid e-mail address.") from None
    return {
        "name": _name(data, "name"),
        "role": role,
        "mobile": mobile,
        "email": email,
    }
