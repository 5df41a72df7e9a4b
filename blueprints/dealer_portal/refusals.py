"""The domain's refusals as the portal says them: in the reader's language, and under the
field they concern. The domain speaks English to every door; the words it has for a refused
invitation or a refused field of a form are few, and known here."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from service.errors import DomainError

# An invitation that cannot be used, by the error's code.
_INVITATIONS = {
    "not_found": _l("No such invitation."),
    "invitation_accepted": _l("This invitation has been accepted."),
    "invitation_expired": _l("This invitation has expired."),
}

# A field refused by the domain, by the field's name there and the domain's reason.
_FIELDS = {
    ("email", "Already in use."): _l(
        "Another member of this chain already uses this e-mail address."
    ),
    ("mobile", "Not a phone number."): _l("Not a phone number."),
    ("mobile", "Not a valid phone number."): _l("Not a valid phone number."),
}


def invitation_refusal(error: DomainError) -> str:
    """Why an invitation cannot be used, or the error's own words for anything else."""
    return str(_INVITATIONS.get(error.code, error.message))


def place_on_form(form: FlaskForm, error: DomainError, fields: dict[str, str]) -> bool:
    """Shows each reason of the refused fields under the form's field (`fields` maps the
    domain's names to the form's). False, and nothing shown, when the refusal names no field
    or one the form does not have: then it is said above the form."""
    refused = error.details.get("fields") or {}
    if not refused or not set(refused) <= set(fields):
        return False
    for name, reasons in refused.items():
        form[fields[name]].errors.extend(_FIELDS.get((name, r), r) for r in reasons)
    return True
