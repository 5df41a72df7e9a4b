"""/portal/groups/<id>: a delivery group's chat, live. The page lists the latest messages and
works without a script (a form that posts and redirects); the script adds the new messages as
they come, from server-sent events, or by polling when a stream cannot be kept open (the
machinery it shares with the customer's link is in blueprints.dealer_portal.live)."""

from __future__ import annotations

import uuid

from flask import current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints import close_request_session, db
from blueprints.dealer_portal import attachments as files
from blueprints.dealer_portal import live
from blueprints.dealer_portal.forms import plain_text
from blueprints.dealer_portal.live import BATCH, Times, moderation_reason
from blueprints.dealer_portal.refusals import reasons_of
from service.attachments.attachments import attach
from service.attachments.checks import TYPES
from service.chain.chains import get_chain
from service.customers.models import Customer
from service.errors import Conflict, Invalid
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

# Re-exported: the stream's settings are named from here in the app's config and the tests.
HEARTBEAT, LIFETIME = live.HEARTBEAT, live.LIFETIME
MESSAGE = "portal/groups_message.html"


class MessageForm(FlaskForm):
    # Optional when a file is attached: a photo may go without a word.
    text = TextAreaField(_l("Your message"), validators=[Length(max=MAX_TEXT), plain_text])
    file = FileField(
        _l("Photo or PDF (up to 20 MB)"),
        render_kw={
            "accept": ",".join(
                [*TYPES, *(extension for _k, exts, _f in TYPES.values() for extension in exts)]
            )
        },
    )
    # Made with the form: the same form posted twice (a double click, a resent request)
    # stores one message.
    client_message_id = HiddenField(validators=[Length(max=100)])


class SeatForm(FlaskForm):
    member_id = SelectField(_l("Add someone"), validators=[DataRequired()], choices=[])


def _reader() -> Reader:
    return Reader.of(g.member)


def attachment_url(endpoint: str, attachment) -> str:
    return url_for(f"dealer_portal.{endpoint}", attachment_id=attachment.id)


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
        when=Times(chain.timezone),
        timezone=chain.timezone,
        moderation_reason=moderation_reason,
        attachment_url=attachment_url,
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
    # Before anything reads the body: a larger one is refused as it arrives.
    request.max_content_length = files.REQUEST_LIMIT
    reader = _reader()
    group = open_group(db(), reader, group_id)
    try:
        form = MessageForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        return _refused(group, reader, MessageForm(formdata=None), file=[str(files.TOO_LARGE)])
    if valid:
        try:
            checked = files.read_upload()
        except Invalid as refusal:
            form.file.errors = list(form.file.errors) + files.upload_reason(refusal)
        else:
            if checked is None and not (form.text.data or "").strip():
                form.text.errors = [*form.text.errors, _("Write a message or attach a file.")]
            else:
                posted = _post(reader, group, form, checked)
                if posted is not None:
                    return posted
    return _refused(group, reader, form)


def _post(reader, group, form, checked):
    """Post the message (and its file); None when it was refused, the reason on the form."""
    try:
        stored, new = post_as_reader(
            db(),
            reader,
            group,
            text=form.text.data or "",
            client_message_id=form.client_message_id.data or None,
            with_attachment=checked is not None,
        )
    except Invalid as refusal:
        db().rollback()
        form.text.errors = list(form.text.errors) + live.refusal_reasons(refusal)
        return None
    if checked is not None and new:
        store = files.store()
        attachment = attach(
            db(),
            store,
            message=stored[0],
            checked=checked,
            uploaded_by_member_id=reader.member_id,
            link=files.portal_link,
        )
        # Committed here, not at the request's edge: a commit that fails takes the files
        # with it.
        try:
            db().commit()
        except BaseException:
            store.discard(attachment.id)
            raise
    if _wants_json():
        times = Times(get_chain(db(), group.chain_id).timezone)
        items = live.items(MESSAGE, _lines(stored), times, attachment_url)
        return jsonify(items=items, next_client_message_id=uuid.uuid4().hex), 201
    return redirect(url_for("dealer_portal.group_page", group_id=group.id) + "#compose")


def _refused(group, reader, form, **errors):
    """The form again with its reasons: 413 for a body over the limit, else 422."""
    status = 413 if errors else 422
    for name, reasons in errors.items():
        form[name].errors = list(form[name].errors) + reasons
    if _wants_json():
        fields = {name: [str(e) for e in form[name].errors] for name in ("text", "file")}
        listed = fields["text"] + fields["file"]
        if not listed:
            listed = [str(_l("This form has expired. Reload the page."))]
        return jsonify(errors=listed, fields=fields), status
    return _render_page(group, reader, form, SeatForm(formdata=None), status=status, mark=False)


def _lines(stored):
    """The messages just posted, with their sender's names, as the page lists them."""
    reader = _reader()
    group = open_group(db(), reader, stored[0].group_id)
    return [
        line
        for line in messages_after(db(), reader, group, live.before(stored[0].id), limit=BATCH)
        if line.id in {m.id for m in stored}
    ]


def seat_someone(group_id: uuid.UUID):
    reader = _reader()
    group = open_group(db(), reader, group_id)
    form = SeatForm()
    form.member_id.choices = [(str(m.id), m.name) for m in seatable(db(), reader, group)]
    if form.validate_on_submit():
        try:
            seat_member(db(), reader, group, uuid.UUID(form.member_id.data))
        except (Invalid, Conflict) as refusal:  # the person, or a group that is full
            db().rollback()
            form.member_id.errors = list(form.member_id.errors) + reasons_of(refusal, "member_id")
        else:
            return redirect(url_for("dealer_portal.group_page", group_id=group.id) + "#seats")
    return _render_page(group, reader, MessageForm(formdata=None), form, status=422, mark=False)


def mark_group_read(group_id: uuid.UUID):
    """The script says the reader has seen the group up to a message (a visible page)."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    if not FlaskForm().validate_on_submit():
        return jsonify(errors=["csrf"]), 400
    mark_read(db(), reader, group, live.position(request.form.get("message_id")))
    return "", 204


def new_messages(group_id: uuid.UUID):
    """The polling fallback: the messages after ?after=<message id>, as HTML fragments."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    after = live.position(request.args.get("after"))
    times = Times(get_chain(db(), group.chain_id).timezone)
    lines = messages_after(db(), reader, group, after, limit=BATCH)
    items = live.items(MESSAGE, lines, times, attachment_url)
    return jsonify(items=items, more=len(lines) == BATCH)


def group_events(group_id: uuid.UUID):
    """Server-sent events: each message after Last-Event-ID (or ?after=), then each new one
    as it comes (blueprints.dealer_portal.live)."""
    reader = _reader()
    group = open_group(db(), reader, group_id)
    after = live.position(request.headers.get("Last-Event-ID") or request.args.get("after"))
    if after is None:
        after = last_message_id(db(), group)  # a fresh stream: from now on
    times = Times(get_chain(db(), group.chain_id).timezone)
    database = current_app.extensions["db"]

    def read_after(position):
        with database.session(read_only=True) as session:
            return messages_after(session, reader, group, position, limit=BATCH)

    return live.event_stream(
        read_after,
        after=after,
        channel=current_app.extensions["pipeline"].group_channel(group.id),
        render=lambda line: live.fragment(MESSAGE, line, times, attachment_url),
    )


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
