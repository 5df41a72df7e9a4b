"""The domain's refusals as the portal and the customer's link say them: in the reader's
language, and under the field they concern. The domain speaks English to every door (the
brand API keeps it); here its sentences are known and translated, those with something put in
them (a blocked word, a limit) by the Reason the domain made. A sentence not known here is
shown in its English rather than not at all."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from service.errors import DomainError

# The domain's sentences (a Reason's before anything is put in it), by the words a reader sees.
REASONS = {
    # Messages, and what moderation finds in them
    "Must not be blank.": _l("Must not be blank."),
    "At most {count} characters.": _l("At most %(count)s characters."),
    "Contains the blocked word {word!r}.": _l("Contains the blocked word “%(word)s”."),
    "Contains a mobile number.": _l("Contains a mobile number."),
    "Contains an e-mail address.": _l("Contains an e-mail address."),
    "You may read this group but not post in it.": _l(
        "You may read this group but not post in it."
    ),
    # Attachments
    "The file is empty.": _l("The file is empty."),
    "The file is over 20 MB.": _l("The file is over 20 MB."),
    "The file has no name.": _l("The file has no name."),
    "Only photos (JPEG, PNG, WebP) and PDF files can be attached.": _l(
        "Only photos (JPEG, PNG, WebP) and PDF files can be attached."
    ),
    "The file's name does not match what it contains.": _l(
        "The file's name does not match what it contains."
    ),
    "The file's type does not match what it contains.": _l(
        "The file's type does not match what it contains."
    ),
    "The PDF file is incomplete.": _l("The PDF file is incomplete."),
    "The photo cannot be read: it is damaged or not a photo.": _l(
        "The photo cannot be read: it is damaged or not a photo."
    ),
    "The photo has too many pixels (at most 50 megapixels).": _l(
        "The photo has too many pixels (at most 50 megapixels)."
    ),
    # Seating someone in a group
    "A member of another dealer, which the customer's dealer may not see.": _l(
        "This person works for another dealer, whom this customer's dealer may not see."
    ),
    "The group is full: it has its cap of {cap} members.": _l(
        "The group is full: it has its cap of %(cap)s members."
    ),
    "You may read this group but not seat anyone in it.": _l(
        "You may read this group but not add anyone to it."
    ),
    # A report's period
    "Between {first} and {last}.": _l("Between %(first)s and %(last)s."),
    "After `to`.": _l("After the last day."),
    "At most 366 days before `to`: ask for a year at a time.": _l(
        "At most 366 days: ask for a year at a time."
    ),
    # Customers and their owners
    "Not a phone number.": _l("Not a phone number."),
    "Not a valid phone number.": _l("Not a valid phone number."),
    "At most {count} tags.": _l("At most %(count)s tags."),
    "A tag is at most {count} characters.": _l("A tag is at most %(count)s characters."),
    "The chain already has a customer with this mobile.": _l(
        "The chain already has a customer with this mobile."
    ),
    "Another customer of the chain has this mobile.": _l(
        "The chain already has a customer with this mobile."
    ),
    "Only a dealer's members add customers.": _l("Only a dealer's members add customers."),
    "Only an administrator may choose the owner.": _l(
        "Only an administrator may choose the owner."
    ),
    "Only an administrator or the customer's owner may change the owner.": _l(
        "Only an administrator or the customer's owner may do this."
    ),
    "Must be a member of the customer's dealer.": _l("Must be a member of the customer's dealer."),
    # Members: the Team page, joining, passwords
    "No such member.": _l("No such member."),
    # Said only of an e-mail address (the login must be one person's).
    "Already in use.": _l("Another member of this chain already uses this e-mail address."),
    "Another member of this chain already uses this e-mail address.": _l(
        "Another member of this chain already uses this e-mail address."
    ),
    "Must contain a visible character.": _l("Must contain a visible character."),
    "Must not contain control characters.": _l("Contains characters that are not text."),
    "Must be someone else.": _l("Must be someone else."),
    "Must be a member of the same organisation.": _l("Must be a member of the same organisation."),
    "You cannot remove yourself.": _l("You cannot remove yourself."),
    "At least {count} characters.": _l("At least %(count)s characters."),
    # The order's installation appointment
    "Before the order was placed.": _l("Before the order was placed."),
    "More than two years ahead.": _l("More than two years ahead."),
    "Out of range.": _l("Out of range."),
    "You may read this order but not change it.": _l("You may read this order but not change it."),
    "Unknown milestone.": _l("Unknown milestone."),
    # What a page names that is not there, or no longer
    "No such customer.": _l("No such customer."),
    "No such order.": _l("No such order."),
    "No such deliverygroup.": _l("No such delivery group."),
    "No such attachment.": _l("No such attachment."),
    "No such thumbnail.": _l("No such attachment."),
    "No such page.": _l("This page does not exist"),
    "No such link.": _l("This link does not exist. Check that it was copied whole."),
    "No such customer link.": _l("This link does not exist. Check that it was copied whole."),
    "No such invitation.": _l("No such invitation."),
}

# An invitation that cannot be used, by the error's code.
_INVITATIONS = {
    "not_found": _l("No such invitation."),
    "invitation_accepted": _l("This invitation has been accepted."),
    "invitation_expired": _l("This invitation has expired."),
}


def say(reason: str, wording: Mapping | None = None) -> str:
    """One of the domain's reasons in the reader's language (`wording` first: a form's own
    words for it), or as the domain wrote it when it is not known."""
    sentence = getattr(reason, "sentence", reason)
    known = (wording or {}).get(sentence) or REASONS.get(sentence)
    if known is None:
        return str(reason)
    return str(known) % getattr(reason, "params", {})


def reasons_of(error: DomainError, field: str) -> list[str]:
    """Why the domain refused a field, in the reader's language; the whole refusal when it
    names no reason for that field."""
    reasons = (error.details.get("fields") or {}).get(field)
    return [say(reason) for reason in reasons] if reasons else [refusal(error)]


def refusal(error: DomainError, wording: Mapping | None = None) -> str:
    """The refusal in one line, for above a form or on the error page: its fields' reasons,
    else its message."""
    reasons = [r for rs in (error.details.get("fields") or {}).values() for r in rs]
    if reasons:
        return " ".join(say(reason, wording) for reason in reasons)
    return say(error.message, wording)


def invitation_refusal(error: DomainError) -> str:
    """Why an invitation cannot be used, or the refusal's own words for anything else."""
    known = _INVITATIONS.get(error.code)
    return str(known) if known is not None else refusal(error)


def place_on_form(
    form: FlaskForm, error: DomainError, fields: dict[str, str], wording: Mapping | None = None
) -> bool:
    """Shows each reason of the refused fields under the form's field (`fields` maps the
    domain's names to the form's). False, and nothing shown, when the refusal names no field
    or one the form does not have: then it is said above the form (`refusal`)."""
    refused = error.details.get("fields") or {}
    if not refused or not set(refused) <= set(fields):
        return False
    for name, reasons in refused.items():
        form[fields[name]].errors.extend(say(reason, wording) for reason in reasons)
    return True
