"""/portal/groups/<id>: a delivery group's chat, live. The page lists the latest messages and
works without a script (a form that posts and redirects); the script adds the new messages as
they come, from server-sent events, or by polling when a stream cannot be kept open.

A stream holds no database connection while it waits: it subscribes to the group's Redis
channel (a commit that wrote messages in the group publishes on it), waits there with a
timeout, and on each wake reads what came after the last message it sent."""

from __future__ import annotations

import json
import re
import time
import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints import close_request_session, db
from blueprints.dealer_portal.forms import plain_text
from service.chain.chains import get_chain
from service.customers.models import Customer
from service.errors import Invalid
from service.groups.messages import MAX_TEXT
from service.portal.access import Reader, may_write
from service.portal.groups import (
    last_message_id,
    mark_read,
    message_page,
    messages_after,
    open_group,
    post_as_reader,
    seatable,
    seats_of,
)
from service.portal.groups import seat as seat_member

# How a stream waits (app.config, so that tests can shorten them): a comment every
# HEARTBEAT seconds keeps proxies from closing a quiet stream; after LIFETIME seconds the
# stream ends and the browser reconnects with Last-Event-ID, its access checked again.
HEARTBEAT = "PORTAL_EVENTS_HEARTBEAT_SECONDS"
LIFETIME = "PORTAL_EVENTS_LIFETIME_SECONDS"
DEFAULTS = {HEARTBEAT: 15.0, LIFETIME: 300.0}
# The browser's wait before reconnecting a stream that ended (milliseconds).
RETRY_MS = 2000
BATCH = 100


class MessageForm(FlaskForm):
    text = TextAreaField(
        _l("Your message"), validators=[DataRequired(), Length(max=MAX_TEXT), plain_text]
    )
    # Made with the form: the same form posted twice (a double click, a resent request)
    # stores one message.
    client_message_id = HiddenField(validators=[Length(max=100)])


class SeatForm(FlaskForm):
    member_id = SelectField(_l("Add someone"), validators=[DataRequired()], choices=[])


def _setting(name: str) -> float:
    return float(current_app.config.get(name, DEFAULTS[name]))


def _reader() -> Reader:
    return Reader.of(g.member)


def _position(value: str | None) -> uuid.UUID | None:
    """A message id given by the client (Last-Event-ID, ?after=); None if it is not one."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class _Times:
    """Times in the chain's time zone, written the reader's way."""

    def __init__(self, timezone: str):
        self.zone = ZoneInfo(timezone)
        self.locale = str(get_locale() or "en")

    def __call__(self, moment) -> str:
        return format_datetime(moment, "short", tzinfo=self.zone, locale=self.locale)


_REASONS = {
    "Contains a mobile number.": _l("Contains a mobile number."),
    "Contains an e-mail address.": _l("Contains an e-mail address."),
}
_BLOCKED_WORD = re.compile(r"Contains the blocked word (['\"])(?P<word>.*)\1\.", re.S)


def moderation_reason(reason: str | None) -> str:
    """The moderation's reason (the domain writes it in English) in the reader's language."""
    if not reason:
        return ""
    if reason in _REASONS:
        return str(_REASONS[reason])
    blocked = _BLOCKED_WORD.fullmatch(reason)
    if blocked:
        return _("Contains the blocked word “%(word)s”.", word=blocked["word"])
    return reason


def _fragment(line, times: _Times) -> str:
    # Rendered without the portal's context processors: a stream holds no database
    # session, and nothing here needs one.
    template = current_app.jinja_env.get_template("portal/groups_message.html")
    return template.render(line=line, when=times, moderation_reason=moderation_reason)


def _render_page(group, reader, form, seat_form, *, status=200, mark=True):
    session = db()
    cursor = request.args.get("before") or None
    lines, earlier = message_page(session, reader, group, cursor=cursor)
    chain = get_chain(session, group.chain_id)
    writable = may_write(session, reader, group)
    seat_form.member_id.choices = [
        (str(m.id), f"{m.name} · {m.organisation.name}") for m in seatable(session, reader, group)
    ]
    if not form.client_message_id.data:
        form.client_message_id.data = uuid.uuid4().hex
    page = render_template(
        "portal/groups_page.html",
        group=group,
        customer=session.get(Customer, group.customer_id),
        seats=seats_of(session, group),
        lines=lines,
        earlier=earlier,
        latest=cursor is None,
        last_id=lines[-1].id if lines else None,
        writable=writable,
        form=form,
        seat_form=seat_form,
        when=_Times(chain.timezone),
        timezone=chain.timezone,
        moderation_reason=moderation_reason,
    )
    if mark and cursor is None and lines:
        _mark_read_now(reader, group, lines[-1].id)
    return page, status


def _mark_read_now(reader, group, message_id) -> None:
    # Opening the page reads it. A GET's own session only reads: its transaction ends here,
    # the page being rendered, and this one write is committed on its own.
    close_request_session()
    with current_app.extensions["db"].session() as session:
        mark_read(session, reader, group, message_id)
        session.commit()


def group_page(group_id: uuid.UUID):
    group = open_group(db(), _reader(), group_id)
    return _render_page(group, _reader(), MessageForm(formdata=None), SeatForm(formdata=None))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def post_group_message(group_id: uuid.UUID):
    reader = _reader()
    group = open_group(db(), reader, group_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            stored, _new = post_as_reader(
                db(),
                reader,
                group,
                text=form.text.data,
                client_message_id=form.client_message_id.data or None,
            )
        except Invalid as refusal:
            db().rollback()
            reasons = (refusal.details.get("fields") or {}).get("text") or [refusal.message]
            form.text.errors = list(form.text.errors) + [moderation_reason(r) for r in reasons]
        else:
            if _wants_json():
                times = _Times(get_chain(db(), group.chain_id).timezone)
                items = [{"id": str(m.id), "html": _fragment(m, times)} for m in _lines(stored)]
                return jsonify(items=items, next_client_message_id=uuid.uuid4().hex), 201
            return redirect(url_for("dealer_portal.group_page", group_id=group.id) + "#compose")
    if _wants_json():
        errors = form.text.errors or [str(_l("This form has expired. Reload the page."))]
        return jsonify(errors=[str(e) for e in errors]), 422
    return _render_page(group, reader, form, SeatForm(formdata=None), status=422, mark=False)


def _lines(stored):
    """The messages just posted, with their sender's names, as the page lists them."""
    reader = _reader()
    group = open_group(db(), reader, stored[0].group_id)
    return [
        line
        for line in messages_after(db(), reader, group, _before(stored[0].id), limit=BATCH)
        if line.id in {m.id for m in stored}
    ]


def _before(message_id: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=message_id.int - 1)


def seat_someone(group_id: uuid.UUID):
    reader = _reader()
    group = open_group(db(), reader, group_id)
    form = SeatForm()
    form.member_id.choices = [(str(m.id), m.name) for m in seatable(db(), reader, group)]
    if form.validate_on_submit():
        try:
            seat_member(db(), reader, group, uuid.UUID(form.member_id.data))
        except Invalid as refusal:
            db().rollback()
            reasons = (refusal.details.get("fields") or {}).get("member_id") or [refusal.message]
            form.member_id.errors = list(form.member_id.errors) + reasons
        else:
            return redirect(url_for("dealer_portal.group_page", group_id=group.id) + "#seats")
    return _render_page(group, reader, MessageForm(formdata=None), form, status=422, mark=False)


def mark_group_read(group_id: uuid.UUID):
    """The script says the reader has seen the group up to a message (a visible page)."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    if not FlaskForm().validate_on_submit():
        return jsonify(errors=["csrf"]), 400
    mark_read(db(), reader, group, _position(request.form.get("message_id")))
    return "", 204


def new_messages(group_id: uuid.UUID):
    """The polling fallback: the messages after ?after=<message id>, as HTML fragments."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    after = _position(request.args.get("after"))
    times = _Times(get_chain(db(), group.chain_id).timezone)
    lines = messages_after(db(), reader, group, after, limit=BATCH)
    items = [{"id": str(line.id), "html": _fragment(line, times)} for line in lines]
    return jsonify(items=items, more=len(lines) == BATCH)


def group_events(group_id: uuid.UUID):
    """Server-sent events: each message after Last-Event-ID (or ?after=), then each new one
    as it comes; `id:` is the message's id, so a reconnect resumes where it stopped."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    after = _position(request.headers.get("Last-Event-ID") or request.args.get("after"))
    if after is None:
        after = last_message_id(db(), group)  # a fresh stream: from now on
    times = _Times(get_chain(db(), group.chain_id).timezone)
    database = current_app.extensions["db"]
    redis = current_app.extensions["redis"].client
    channel = current_app.extensions["pipeline"].group_channel(group.id)
    heartbeat, lifetime = _setting(HEARTBEAT), _setting(LIFETIME)
    # Nothing of the database is held while the stream is open.
    close_request_session()

    def read_after(position):
        with database.session(read_only=True) as session:
            return messages_after(session, reader, group, position, limit=BATCH)

    def stream():
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        # Subscribed before the first read: a commit between the two is not missed.
        pubsub.subscribe(channel)
        try:
            yield f"retry: {RETRY_MS}\n\n"
            position, deadline = after, time.monotonic() + lifetime
            while True:
                lines = read_after(position)
                for line in lines:
                    data = json.dumps({"id": str(line.id), "html": _fragment(line, times)})
                    yield f"id: {line.id}\ndata: {data}\n\n"
                    position = line.id
                if len(lines) == BATCH:
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if _wait(pubsub, min(heartbeat, left)):
                    continue
                yield ": still here\n\n"
        finally:
            pubsub.close()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _wait(pubsub, timeout: float) -> bool:
    """Whether the group was woken within `timeout` seconds. Every wake waiting is taken:
    one read of the database answers them all."""
    deadline = time.monotonic() + timeout
    # None also comes back at once for what is not a wake (the subscription's confirmation).
    while (left := deadline - time.monotonic()) > 0:
        if pubsub.get_message(timeout=left) is not None:
            while pubsub.get_message(timeout=0) is not None:
                pass
            return True
    return False


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    rules = (
        ("/groups/<uuid:group_id>", group_page, ["GET"]),
        ("/groups/<uuid:group_id>/messages", post_group_message, ["POST"]),
        ("/groups/<uuid:group_id>/messages", new_messages, ["GET"]),
        ("/groups/<uuid:group_id>/events", group_events, ["GET"]),
        ("/groups/<uuid:group_id>/seats", seat_someone, ["POST"]),
        ("/groups/<uuid:group_id>/read", mark_group_read, ["POST"]),
    )
    for rule, view, methods in rules:
        bp.add_url_rule(rule, view_func=login_required(view), methods=methods)
