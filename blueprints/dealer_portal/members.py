"""The portal's members: set-password links, "forgot password", a member's language, and the
Team page where a dealer's administrator adds colleagues, makes their set-password links and
removes them (handing their customers to someone else)."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from blueprints import db, public_base_url
from blueprints.dealer_portal.forms import plain_text, visible_name
from blueprints.dealer_portal.refusals import place_on_form, reasons_of, refusal, say
from blueprints.dealer_portal.sign_in import log_in
from service.chain.chains import get_chain
from service.chain.members import set_language
from service.chain.mobiles import format_mobile
from service.chain.models import Language
from service.chain.password_links import open_password_link, password_url, use_password_link
from service.errors import DomainError
from service.portal.access import Reader
from service.portal.team import (
    add_colleague,
    colleague,
    colleague_password_link,
    remove_colleague,
    team,
)

# A refused link, by the error's code.
_LINKS = {
    "not_found": _l("This link does not exist. Check that it was copied whole."),
    "password_link_used": _l("This link has been used already."),
    "password_link_expired": _l("This link has expired."),
}
# The domain's reasons as the form removing a colleague words them.
_REMOVAL = {
    "No such member.": _l("Choose one of your colleagues."),
    "Must be someone else.": _l("Choose someone other than the person leaving."),
}
COLLEAGUE_FIELDS = {"name": "name", "role": "role", "email": "email", "mobile": "mobile"}


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=8, max=200), plain_text],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As my browser asks")),
            SelectChoice(Language.ZH_CN.value, "中文"),
            SelectChoice(Language.EN.value, "English"),
        ],
        validators=[Optional()],
    )


class ColleagueForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), plain_text, visible_name]
    )
    role = SelectField(_l("Role"), default="service_specialist", validators=[DataRequired()])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), plain_text, Email()])
    mobile = StringField(_l("Mobile"), validators=[Optional(), Length(max=32), plain_text])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.email.data and not self.mobile.data:
            # Without either the colleague could never sign in.
            self.mobile.errors.append(_l("Give an e-mail address or a mobile to sign in with."))
            return False
        return True


class RemoveForm(FlaskForm):
    successor = SelectField(_l("Hand their customers and groups over to"))


def _roles():
    from blueprints.dealer_portal import ROLES  # the package imports this module

    return [SelectChoice(role, name) for role, name in ROLES.items()]


def _reader() -> Reader:
    return Reader.of(g.member)


def local_time(moment, chain_id: uuid.UUID) -> str:
    """A moment in the chain's time zone, written the reader's way."""
    timezone = get_chain(db(), chain_id).timezone
    return format_datetime(
        moment.astimezone(ZoneInfo(timezone)), "medium", locale=str(get_locale() or "en")
    )


# Set-password links


def set_password(token: str):
    try:
        link, member = open_password_link(db(), token)
    except DomainError as error:
        message = _LINKS.get(error.code) or refusal(error)
        return render_template("portal/members_link_closed.html", message=message), error.status
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            member = use_password_link(db(), token=token, password=form.password.data)
        except DomainError as failure:
            db().rollback()
            if failure.code in _LINKS:
                message = _LINKS[failure.code]
                page = render_template("portal/members_link_closed.html", message=message)
                return page, failure.status
            form.password.errors.extend(reasons_of(failure, "password"))
        else:
            log_in(member)
            flash(_("Your password is set. You are signed in."))
            return redirect(url_for("dealer_portal.home"))
    page = render_template(
        "portal/members_password.html",
        form=form,
        member=member,
        expires=local_time(link.expires_at, link.chain_id),
    )
    return page, 422 if form.is_submitted() else 200


def forgot_password():
    return render_template("portal/members_forgot.html")


# The member's own settings


def settings():
    form = LanguageForm(language=g.member.language or "")
    if form.validate_on_submit():
        set_language(db(), g.member, form.language.data or None)
        return redirect(url_for("dealer_portal.settings"))
    return render_template("portal/members_settings.html", form=form), (
        422 if form.is_submitted() else 200
    )


# The Team page


def _team_page(form: ColleagueForm, *, error=None, status=200):
    members = team(db(), _reader())
    return render_template(
        "portal/members_team.html", members=members, form=form, error=error
    ), status


def team_page():
    form = ColleagueForm()
    form.role.choices = _roles()
    team(db(), _reader())  # 404 before anything else for whoever is not a dealer's admin
    if request.method == "GET":
        return _team_page(form)
    if not form.validate_on_submit():
        return _team_page(form, status=422)
    try:
        added = add_colleague(
            db(),
            _reader(),
            name=form.name.data,
            role=form.role.data,
            email=form.email.data or None,
            mobile=form.mobile.data or None,
        )
    except DomainError as failure:
        db().rollback()
        error = None if place_on_form(form, failure, COLLEAGUE_FIELDS) else refusal(failure)
        return _team_page(form, error=error, status=failure.status)
    flash(_("%(name)s has been added.", name=added.name))
    return redirect(url_for("dealer_portal.team_page"))


def team_password_link(member_id: uuid.UUID):
    if not FlaskForm().validate_on_submit():
        colleague(db(), _reader(), member_id)
        return redirect(url_for("dealer_portal.team_page"))
    link, token = colleague_password_link(db(), _reader(), member_id)
    member = colleague(db(), _reader(), member_id)
    return render_template(
        "portal/members_team_link.html",
        member=member,
        url=password_url(public_base_url(), token),
        expires=local_time(link.expires_at, link.chain_id),
    )


def team_remove(member_id: uuid.UUID):
    reader = _reader()
    leaving = colleague(db(), reader, member_id)
    others = [m for m in team(db(), reader) if m.id != leaving.id]
    form = RemoveForm()
    form.successor.choices = [SelectChoice(str(m.id), m.name) for m in others]
    error = None
    if leaving.id == reader.member_id:
        error = say("You cannot remove yourself.")
    elif form.validate_on_submit():
        try:
            handover = remove_colleague(
                db(), reader, leaving.id, successor_id=uuid.UUID(form.successor.data)
            )
        except DomainError as failure:
            db().rollback()
            if not place_on_form(form, failure, {"successor": "successor"}, _REMOVAL):
                error = refusal(failure, _REMOVAL)
        else:
            flash(
                _(
                    "%(name)s has been removed. Handed over to %(successor)s: customers "
                    "%(customers)d, groups %(groups)d.",
                    name=leaving.name,
                    customers=handover.customers,
                    groups=handover.groups,
                    successor=next(m.name for m in others if str(m.id) == form.successor.data),
                )
            )
            return redirect(url_for("dealer_portal.team_page"))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "portal/members_team_remove.html", form=form, leaving=leaving, error=error
    )
    return page, status


def shown_mobile(value: str | None) -> str:
    """A mobile the way every page of the portal writes it (`139 0000 1234`); a masked one
    (`139****1234`) as it is, since its hidden digits are not there to group."""
    if not value:
        return ""
    return value if "*" in value else format_mobile(value)


def register(bp) -> None:
    from blueprints.dealer_portal import login_required  # the package imports this module

    bp.add_app_template_filter(shown_mobile, "mobile")
    bp.add_url_rule("/password/<token>", view_func=set_password, methods=["GET", "POST"])
    bp.add_url_rule("/forgot-password", view_func=forgot_password)
    bp.add_url_rule("/settings", view_func=login_required(settings), methods=["GET", "POST"])
    bp.add_url_rule("/team", view_func=login_required(team_page), methods=["GET", "POST"])
    bp.add_url_rule(
        "/team/<uuid:member_id>/password-link",
        view_func=login_required(team_password_link),
        methods=["POST"],
    )
    bp.add_url_rule(
        "/team/<uuid:member_id>/remove",
        view_func=login_required(team_remove),
        methods=["GET", "POST"],
    )
