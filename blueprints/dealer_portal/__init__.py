"""/portal: the web portal of the chain's organisations. Server-rendered, session login, CSRF."""

from __future__ import annotations

import logging
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError

from blueprints import db, public_base_url
from blueprints.dealer_portal import (
    attachments,
    attention,
    groups,
    members,
    pages,
    reports,
    sign_in,
)
from blueprints.dealer_portal.error_pages import init_error_pages
from blueprints.dealer_portal.forms import JoinForm
from blueprints.dealer_portal.languages import init_languages
from blueprints.dealer_portal.refusals import invitation_refusal, place_on_form, refusal
from blueprints.doors import progress_url
from service.chain.chains import get_chain
from service.chain.directory import search_directory, shared_directory
from service.chain.invitations import accept_invitation, open_invitation
from service.db import conflict_constraint
from service.errors import Conflict, DomainError

log = logging.getLogger(__name__)

bp = Blueprint(
    "dealer_portal",
    __name__,
    url_prefix="/portal",
    template_folder="templates",
    static_folder="static",
)


ROLES = {
    "admin": _l("Administrator"),
    "service_specialist": _l("Service specialist"),
    "designer": _l("Designer"),
    "installer": _l("Installer"),
    "sales": _l("Sales"),
    "coordinator": _l("Coordinator"),
}
DIRECTORY_PAGE = 100
KINDS = {"brand": _l("brand"), "dealer": _l("dealer"), "factory": _l("factory")}


@bp.record_once
def _languages(state) -> None:
    init_languages(state.app)
    init_error_pages(state.app)


@bp.context_processor
def template_globals() -> dict:
    return {
        # Forms check their own CSRF token (FlaskForm); templates without a form need the helper.
        "csrf_token": generate_csrf,
        "html_lang": str(get_locale() or "en").replace("_", "-"),
        "role_name": lambda role: ROLES.get(role, role),
        "kind_name": lambda kind: KINDS.get(kind, kind),
    }


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.member is None:
            return redirect(url_for("dealer_portal.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


sign_in.register(bp)
members.register(bp)
pages.register(bp)
groups.register(bp)
attention.register(bp)
attachments.register(bp)
reports.register(bp)


# The admin's fields of the join form, by the names the domain gives them when it refuses one.
JOIN_FIELDS = {"email": "admin_email", "mobile": "admin_mobile"}


@bp.route("/join/<code>", methods=["GET", "POST"])
def join(code: str):
    try:
        invitation = open_invitation(db(), code)
    except DomainError as error:
        message = invitation_refusal(error)
        return render_template("portal/join_closed.html", message=message), error.status
    form = JoinForm()
    error = None
    if form.validate_on_submit():
        try:
            organisation, admin, secret = accept_invitation(
                db(),
                code=code,
                organisation_name=form.organisation_name.data,
                admin_name=form.admin_name.data,
                admin_email=form.admin_email.data,
                admin_mobile=form.admin_mobile.data or None,
                password=form.password.data,
            )
        except DomainError as failure:
            # Undo a half-done join (the invitation claimed) before the page reads again.
            db().rollback()
            if not place_on_form(form, failure, JOIN_FIELDS):
                error = invitation_refusal(failure)
        else:
            sign_in.log_in(admin)
            return render_template(
                "portal/joined.html",
                organisation=organisation,
                webhook_secret=secret,
                webhook_url=progress_url(public_base_url(), organisation.id),
            )
    timezone = get_chain(db(), invitation.chain_id).timezone
    page = render_template(
        "portal/join.html",
        form=form,
        invitation=invitation,
        expires_at=invitation.expires_at.astimezone(ZoneInfo(timezone)),
        timezone=timezone,
        error=error,
    )
    return page, 422 if form.is_submitted() else 200


@bp.get("/directory")
@login_required
def directory():
    """The shared directory as this member may see it, searched by name, organisation, role
    (its name in the reader's language, or its code) or mobile, a page at a time."""
    query = (request.args.get("q") or "").strip()[:100]
    listing, search = shared_directory, {}
    if query:
        folded = query.casefold()
        roles = [
            role for role, name in ROLES.items() if folded in str(name).casefold() or folded in role
        ]
        listing, search = search_directory, {"query": query, "roles": roles}
    page = listing(
        db(),
        chain_id=g.member.chain_id,
        viewer_member_id=g.member.id,
        cursor=request.args.get("cursor") or None,
        limit=DIRECTORY_PAGE,
        **search,
    )
    return render_template("portal/directory.html", page=page, query=query)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return render_template("portal/error.html", message=refusal(error)), error.status


@bp.errorhandler(IntegrityError)
def write_conflict(error: IntegrityError):
    """A write the database refused as a conflict (two people adding the same thing at once):
    the error page, at 409. Any other refusal is a bug, and a 500."""
    constraint = conflict_constraint(error)
    if constraint is None:
        raise error
    log.warning("write refused as a conflict: %s", constraint)
    # A flush that failed leaves the transaction unusable; the page reads the member again.
    db().rollback()
    conflict = Conflict(
        _(
            "This change conflicts with one made at the same time, or with data that already "
            "exists. Nothing was saved; try again."
        )
    )
    return render_template("portal/error.html", message=conflict.message), conflict.status
