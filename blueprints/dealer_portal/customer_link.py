"""/c/<token>: the customer's own page, opened by their private link on their phone, without
an account. The token is all it is given: it opens that one customer's orders and group, and
a reply posted here is the customer's (moderated as any other). New messages come live, as on
the portal's group page (blueprints.dealer_portal.live): a stream or polls, authorised by the
token alone, which end when the link is revoked or expires. Unknown tokens are counted
against the address that tries them, so that links cannot be guessed by trying."""

from __future__ import annotations

import time
import uuid

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints import db, writes
from blueprints.dealer_portal import live
from blueprints.dealer_portal.attachments import serve
from blueprints.dealer_portal.forms import plain_text
from blueprints.dealer_portal.live import BATCH, Times
from blueprints.dealer_portal.milestone_names import MILESTONE_NAMES
from blueprints.doors import CUSTOMER_LINK_PREFIX
from blueprints.rate_limits import limiter
from service.attachments.attachments import attachment_of_customer
from service.chain.chains import get_chain
from service.customers.links import open_link
from service.errors import DomainError, NotFound
from service.groups.groups import group_of_customer
from service.groups.messages import MAX_TEXT, post_message
from service.portal.customer_view import customer_messages_after, customer_view
from service.portal.groups import last_message_id
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
    # Made with the form: the same form posted twice stores one message.
    client_message_id = HiddenField(validators=[Length(max=100)])


MESSAGE = "portal/link_message.html"


def _failed(response) -> bool:
    return response.status_code in (404, 410)


def _address_key() -> str:
    return "link-address:" + (request.remote_addr or "unknown")


def _too_many(limit):
    retry_after = min(max(1, limit.reset_at - int(time.time())), WINDOW_SECONDS)
    page = render_template("portal/link_closed.html", state="limited")
    return make_response(page, 429, {"Retry-After": str(retry_after)})


def _limited(view):
    return limiter.limit(
        FAILURES_PER_ADDRESS, key_func=_address_key, deduct_when=_failed, on_breach=_too_many
    )(view)


def _files_of(token: str):
    """Names the downloads of the token's customer's files, `(endpoint, attachment)`."""

    def url(endpoint: str, attachment) -> str:
        return url_for(f"customer_link.{endpoint}", token=token, attachment_id=attachment.id)

    return url


def _closed(opened):
    status = 404 if opened.state == "unknown" else 410
    return render_template("portal/link_closed.html", state=opened.state), status


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _private(response):
    # The page is the customer's own: never kept by a shared cache, nor sent on as a referrer.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/<token>", methods=["GET", "POST"])
@_limited
@writes  # opening the page notes when it was opened
def customer_page(token: str):
    opened = open_link(db(), token)
    if opened.customer is None:
        return _closed(opened)
    customer = opened.customer
    form = ReplyForm()
    view = customer_view(db(), customer)
    times = Times(get_chain(db(), customer.chain_id).timezone)
    if view.group is not None and form.validate_on_submit():
        try:
            stored, _new = post_message(
                db(),
                group=view.group,
                text=form.text.data,
                sender="customer",
                client_message_id=form.client_message_id.data or None,
            )
        except DomainError as error:
            db().rollback()
            form.text.errors = list(form.text.errors) + live.refusal_reasons(error)
        else:
            if _wants_json():
                lines = customer_messages_after(
                    db(), view.group, live.before(stored[0].id), limit=BATCH
                )
                posted = [line for line in lines if line.id in {m.id for m in stored}]
                answer = jsonify(
                    items=live.items(MESSAGE, posted, times, _files_of(token)),
                    next_client_message_id=uuid.uuid4().hex,
                )
                return _private(make_response(answer, 201))
            return redirect(url_for("customer_link.customer_page", token=token) + "#latest")
    if form.is_submitted() and _wants_json():
        errors = form.text.errors or [str(_l("This form has expired. Reload the page."))]
        return _private(make_response(jsonify(errors=[str(e) for e in errors]), 422))
    form.client_message_id.data = uuid.uuid4().hex
    page = render_template(
        "portal/link.html",
        view=view,
        form=form,
        token=token,
        when=times,
        zone=times.zone,
        timezone=times.zone.key,
        last_id=view.messages[-1].id if view.messages else None,
        milestones=MILESTONES,
        step_names=MILESTONE_NAMES,
        attachment_url=_files_of(token),
    )
    return _private(make_response(page, 422 if form.is_submitted() else 200))


def _group_of(token: str):
    """The group the token opens, or the page saying why not."""
    opened = open_link(db(), token, touch=False)
    if opened.customer is None:
        return None, _closed(opened)
    group = group_of_customer(db(), opened.customer.id)
    if group is None:
        return None, (render_template("portal/link_closed.html", state="unknown"), 404)
    return group, None


@bp.get("/<token>/messages")
@_limited
def new_messages(token: str):
    """The polling fallback: the messages after ?after=<message id>, as HTML fragments."""
    group, refused = _group_of(token)
    if refused:
        return refused
    times = Times(get_chain(db(), group.chain_id).timezone)
    lines = customer_messages_after(db(), group, live.position(request.args.get("after")))
    items = live.items(MESSAGE, lines, times, _files_of(token))
    answer = jsonify(items=items, more=len(lines) == BATCH)
    return _private(make_response(answer))


@bp.get("/<token>/events")
@_limited
def events(token: str):
    """Server-sent events of the customer's group; the stream ends once the link no longer
    opens (revoked: at once; expired: at its next look), and is refused (410) from then on."""
    group, refused = _group_of(token)
    if refused:
        return refused
    after = live.position(request.headers.get("Last-Event-ID") or request.args.get("after"))
    if after is None:
        after = last_message_id(db(), group)  # a fresh stream: from now on
    times = Times(get_chain(db(), group.chain_id).timezone)
    files = _files_of(token)
    database = current_app.extensions["db"]

    def read_after(position):
        with database.session(read_only=True) as session:
            if open_link(session, token, touch=False).customer is None:
                return None
            return customer_messages_after(session, group, position, limit=BATCH)

    return _private(
        live.event_stream(
            read_after,
            after=after,
            channel=current_app.extensions["pipeline"].group_channel(group.id),
            render=lambda line: live.fragment(MESSAGE, line, times, files),
        )
    )


def _customer_file(token: str, attachment_id: uuid.UUID, *, thumbnail: bool):
    """A photo or file of the customer's own group; 404 for any other, and for a link that
    opens nothing (counted, as an unknown token is)."""
    opened = open_link(db(), token)
    try:
        if opened.customer is None:
            raise NotFound("No such attachment.")
        attachment = attachment_of_customer(db(), opened.customer, attachment_id)
        response = serve(attachment, thumbnail=thumbnail)
    except NotFound:
        return render_template("portal/link_closed.html", state="unknown"), 404
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/<token>/attachments/<uuid:attachment_id>")
@_limited
def attachment_file(token: str, attachment_id: uuid.UUID):
    return _customer_file(token, attachment_id, thumbnail=False)


@bp.get("/<token>/attachments/<uuid:attachment_id>/thumbnail")
@_limited
def attachment_thumbnail(token: str, attachment_id: uuid.UUID):
    return _customer_file(token, attachment_id, thumbnail=True)
