"""Mobile numbers: validated and stored whole in E.164, shown masked outside their organisation."""

from __future__ import annotations

import phonenumbers

from service.errors import Invalid

# Mainland China first: a number without a country code is read as +86.
DEFAULT_REGION = "CN"


def normalise_mobile(raw: str, *, field: str = "mobile") -> str:
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise Invalid.field(field, "Not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid.field(field, "Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(e164: str) -> str:
    """`+8613812345678` → `138****5678`; other countries keep their code: `+44 791***3456`."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(number)
    # Short numbers (some territories have 4 or 5 digits) keep less, so something stays hidden.
    if len(national) >= 10:
        keep_head, keep_tail = 3, 4
    elif len(national) >= 6:
        keep_head, keep_tail = 2, 2
    else:
        keep_head, keep_tail = 1, 1
    masked = national[:keep_head] + "*" * (len(national) - keep_head - keep_tail)
    masked += national[-keep_tail:]
    if number.country_code == 86:
        return masked
    return f"+{number.country_code} {masked}"


def format_mobile(e164: str) -> str:
    """A whole number as people read it: `138 1234 5678` in China, `+44 7911 123456` elsewhere."""
    number = phonenumbers.parse(e164)
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
