"""Attachments: read from an upload (capped while it streams in) and checked by the domain,
kept with their message, and served only to whoever may open their group — a member through
/portal/attachments/<id>, the customer through their link — never from a public URL."""

from __future__ import annotations

import uuid

from flask import current_app, g, request, send_file, url_for

from blueprints import db, public_base_url
from blueprints.dealer_portal.refusals import REASONS, reasons_of
from service.attachments.checks import MAX_BYTES, check_upload
from service.attachments.files import FileStore
from service.attachments.models import Attachment
from service.errors import Invalid, NotFound
from service.portal.access import Reader, get_visible

# A request may carry one file at the limit, the message's text and the form's fields.
REQUEST_LIMIT = MAX_BYTES + 64 * 1024

# Said before the domain sees the file: the request is refused as it arrives.
TOO_LARGE = REASONS["The file is over 20 MB."]


def store() -> FileStore:
    return FileStore(current_app.extensions["chain_collab.config"].attachments_path)


def upload_reason(refusal: Invalid) -> list[str]:
    return reasons_of(refusal, "file")


def read_upload(field: str = "file"):
    """The upload in `field` checked (service.attachments.checks.Checked), or None when no
    file was chosen; Invalid when it is refused. Reads at most one byte over the limit."""
    upload = request.files.get(field)
    if upload is None:
        return None
    data = upload.stream.read(MAX_BYTES + 1)
    if not data and not upload.filename:
        return None  # the form's file input, left empty
    return check_upload(data, upload.filename or "", upload.mimetype)


def portal_link(attachment_id: uuid.UUID) -> str:
    """The download address handed out (to channels, to the API): it asks for a sign-in."""
    path = url_for("dealer_portal.attachment_file", attachment_id=attachment_id)
    return public_base_url() + path


def serve(attachment: Attachment, *, thumbnail: bool = False):
    files = store()
    if thumbnail:
        if attachment.kind != "image":
            raise NotFound("No such thumbnail.")
        path, mimetype = files.thumbnail(attachment.id), "image/webp"
        name = attachment.file_name.rsplit(".", 1)[0] + ".webp"
    else:
        path, mimetype, name = files.original(attachment.id), attachment.content_type, None
    if not path.is_file():
        raise NotFound("No such attachment.")
    response = send_file(
        path,
        mimetype=mimetype,
        # Photos are shown in the page; a PDF is always a download, never opened in it.
        as_attachment=attachment.kind != "image",
        download_name=name or attachment.file_name,
        conditional=True,
        etag=attachment.sha256 + ("-thumbnail" if thumbnail else ""),
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: nothing in it runs, even when opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def attachment_file(attachment_id: uuid.UUID):
    return serve(_visible(attachment_id))


def attachment_thumbnail(attachment_id: uuid.UUID):
    return serve(_visible(attachment_id), thumbnail=True)


def _visible(attachment_id: uuid.UUID) -> Attachment:
    return get_visible(db(), Reader.of(g.member), Attachment, attachment_id)


def register(bp) -> None:
    from blueprints.dealer_portal import login_required

    rules = (
        ("/attachments/<uuid:attachment_id>", attachment_file),
        ("/attachments/<uuid:attachment_id>/thumbnail", attachment_thumbnail),
    )
    for rule, view in rules:
        bp.add_url_rule(rule, view_func=login_required(view), methods=["GET"])
