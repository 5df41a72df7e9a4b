from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, StopValidation

from service.chain.members import normalise_login
from service.names import BadName, normalise_name


def plain_text(form, field) -> None:
    """Refuse what no person types and what would be stored as garbage: NUL and other control
    characters, lone surrogates, and the replacement character left by bytes that were not
    UTF-8."""
    value = field.data or ""
    if any(unicodedata.category(ch) in ("Cc", "Cs") or ch == "\ufffd" for ch in value):
        raise StopValidation(_l("Contains characters that are not text."))


def visible_name(form, field) -> None:
    """A name normalised as the brand API's names are (service.names): NFC, invisible
    characters removed, whitespace collapsed; refused when nothing visible is left."""
    try:
        field.data = normalise_name(field.data or "")
    except BadName:
        raise StopValidation(_l("Must contain a visible character.")) from None


def email_or_mobile(form, field) -> None:
    """An e-mail address, or a phone number in any way a person writes one."""
    if "@" in (field.data or ""):
        Email()(form, field)
    elif normalise_login(field.data or "") is None:
        raise StopValidation(_l("Enter your e-mail address or your mobile number."))


# Lengths are checked before anything else: a 100 kB password is not worth hashing.
class LoginForm(FlaskForm):
    # An e-mail address or a mobile, typed as the person likes: the domain reads which.
    login = StringField(
        _l("E-mail or mobile"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(), Length(max=254), plain_text, email_or_mobile],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200), plain_text],
        render_kw={"autocomplete": "current-password"},
    )


class JoinForm(FlaskForm):
    organisation_name = StringField(
        _l("Organisation"),
        validators=[DataRequired(), Length(max=200), plain_text, visible_name],
    )
    admin_name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200), plain_text, visible_name]
    )
    admin_email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Length(max=254), plain_text, Email()]
    )
    admin_mobile = StringField(_l("Mobile"), validators=[Optional(), Length(max=32), plain_text])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=8, max=200), plain_text]
    )
