"""/webhooks: signed progress reports from factories."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import Blueprint, jsonify, request
from marshmallow import fields, validate

from blueprints import db, read_db
from blueprints.doors import WEBHOOKS_PREFIX
from blueprints.factory_webhooks.signatures import refusal
from blueprints.fields import Text, UtcDateTime
from blueprints.json_errors import error_response
from blueprints.metrics import redis_client
from service import metrics
from service.chain.organisations import factory_webhook_secrets
from service.errors import DomainError
from service.progress.milestones import MILESTONES
from service.progress.reports import Event, record_report

bp = Blueprint("factory_webhooks", __name__, url_prefix=WEBHOOKS_PREFIX)

MAX_BODY = 64 * 1024
MAX_EVENTS = 500
MAX_WEBHOOK_ID = 200  # the column's width


class EventSchema(ma.Schema):
    work_item = Text(required=True, validate=validate.Length(min=1, max=100))
    milestone = fields.String(required=True, validate=validate.OneOf(MILESTONES))
    occurred_at = UtcDateTime(load_default=None)
    note = Text(load_default="", validate=validate.Length(max=1000))
    eta = UtcDateTime(load_default=None)


class BatchSchema(ma.Schema):
    events = fields.List(
        fields.Nested(EventSchema), required=True, validate=validate.Length(min=1, max=MAX_EVENTS)
    )


# Made once: a schema's construction copies its fields, a good part of a request's cost.
_EVENT, _BATCH = EventSchema(), BatchSchema()


def _rejected(status: int, reason: str, message: str, details: dict | None = None):
    """The error answer to a request turned down, counted by its reason (also its code)."""
    metrics.count(redis_client(), metrics.WEBHOOK_REQUESTS_REJECTED, reason=reason)
    return error_response(status, reason, message, details)


def _too_large():
    return _rejected(413, "too_large", f"The body is over {MAX_BODY // 1024} KiB.")


@bp.post("/factories/<uuid:factory_id>/progress")
def progress(factory_id: uuid.UUID):
    if (request.content_length or 0) > MAX_BODY:
        return _too_large()
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _too_large()

    # Read with the read-only session: a request turned away here never began a transaction
    # that may write (on SQLite, never took the write lock). An unknown or removed factory
    # has nothing to verify against: it is told what a wrong secret would be.
    _, secrets = factory_webhook_secrets(read_db(), factory_id)
    refused = refusal(secrets, body, request.headers)
    if refused is not None:
        return _rejected(401, refused.code, refused.message, refused.details)

    webhook_id = request.headers["webhook-id"]
    if len(webhook_id) > MAX_WEBHOOK_ID or not webhook_id.isprintable():
        return _rejected(
            400, "bad_request", f"webhook-id must be at most {MAX_WEBHOOK_ID} printable characters."
        )

    try:
        payload = request.json_module.loads(body)
    except ValueError:
        return _rejected(400, "bad_request", "The body is not JSON.")
    batch = isinstance(payload, dict) and "events" in payload
    try:
        loaded = _BATCH.load(payload) if batch else {"events": [_EVENT.load(payload)]}
    except ma.ValidationError as error:
        return _rejected(422, "invalid", "Some fields are not valid.", {"fields": error.messages})
    except TypeError:
        return _rejected(422, "invalid", "Send an event object or {'events': [...]}.")

    try:
        answer, new = record_report(
            db(),
            factory_id=factory_id,
            webhook_id=webhook_id,
            events=[Event(**event) for event in loaded["events"]],
            batch=batch,
        )
    except DomainError as error:  # an unknown work item: Invalid, 422, nothing stored
        return _rejected(error.status, error.code, error.message, error.details)
    if new:
        metrics.count_on_commit(db(), metrics.WEBHOOK_EVENTS_ACCEPTED, len(loaded["events"]))
    return jsonify(answer), 202 if new else 200
