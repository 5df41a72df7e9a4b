"""/c/<token>: the customer's own page, opened by their private link on their phone, without
an account. The token is all it is given: it opens that one customer's orders and group, and
a reply posted here is the customer's (moderated as any other). Unknown tokens are counted
against the address that tries them, so that links cannot be guessed by trying."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints import db
from blueprints.dealer_portal.forms import plain_text
from blueprints.dealer_portal.milestone_names import MILESTONE_NAMES
from blueprints.doors import CUSTOMER_LINK_PREFIX
from blueprints.rate_limits import limiter
from service.chain.chains import get_chain
from service.customers.links import open_link
from service.errors import DomainError
from service.groups.messages import MAX_TEXT, post_message
from service.portal.customer_view import customer_view
from service.progress.milestones import MILESTONES

bp = Blueprint(
    "customer_link", __name__, url_prefix=CUSTOMER_LINK_PREFIX, template_folder="templates"
)


@bp.context_processor
def template_globals() -> dict:
    return {"html_lang": str(get_locale() or "en").replace("_", "-")}


# Failed tries (a token that opens nothing) an address may make.
FAILURES_PER_ADDRESS = "30 per minute"
WINDOW_SECONDS = 60


class ReplyForm(FlaskForm):
    text = TextAreaField(
        _l("Your message"), validators=[DataRequired(), Length(max=MAX_TEXT), plain_text]
    )
    client_message_id = HiddenField()


def _failed(response) -> bool:
    return response.status_code in (404, 410)


def _address_key() -> str:
    return "link-address:" + (request.remote_addr or "unknown")


def _too_many(limit):
    retry_after = min(max(1, limit.reset_at - int(time.time())), WINDOW_SECONDS)
    page = render_template("portal/link_closed.html", state="limited")
    return make_response(page, 429, {"Retry-After": str(retry_after)})


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(
    FAILURES_PER_ADDRESS, key_func=_address_key, deduct_when=_failed, on_breach=_too_many
)
def customer_page(token: str):
    opened = open_link(db(), token)
    if opened.customer is None:
        status = 404 if opened.state == "unknown" else 410
        return render_template("portal/link_closed.html", state=opened.state), status
    customer = opened.customer
    form = ReplyForm()
    refusal = None
    view = customer_view(db(), customer)
    if view.group is not None and form.validate_on_submit():
        try:
            post_message(
                db(),
                group=view.group,
                text=form.text.data,
                sender="customer",
                client_message_id=form.client_message_id.data or None,
            )
        except DomainError as error:
            db().rollback()
            refusal = error.details.get("fields", {}).get("text", [error.message])[0]
        else:
            return redirect(url_for("customer_link.customer_page", token=token) + "#latest")
    zone = ZoneInfo(get_chain(db(), customer.chain_id).timezone)
    page = render_template(
        "portal/link.html",
        view=view,
        form=form,
        refusal=refusal,
        zone=zone,
        milestones=MILESTONES,
        step_names=MILESTONE_NAMES,
    )
    response = make_response(page, 422 if form.is_submitted() and refusal else 200)
    # The page is the customer's own: never kept by a shared cache, nor sent on as a referrer.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
