"""One error format for every JSON door (the brand API, the factories' webhooks):
{"error": {"code", "message", "details"}}, and the handlers that answer with it, registered
by the app factory. The portal renders the same errors as pages."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from blueprints.doors import is_json_door
from service.db import conflict_constraint
from service.errors import DomainError, Unauthorized

log = logging.getLogger(__name__)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "invalid"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(
        metadata={"description": "For bad fields: {'fields': {name: [reason, ...]}}."}
    )


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def flat_fields(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """One shape for bad fields, wherever they were found: marshmallow nests a list's and a
    nested object's errors ({"items": {0: {"quantity": [...]}}}), the domain names them as
    paths; both become {"items[0].quantity": [...]}. A nested schema's own errors (_schema)
    belong to the object that holds them."""
    fields: dict[str, list[str]] = {}
    for key, value in messages.items():
        if key == "_schema" and prefix:
            path = prefix
        elif isinstance(key, int) or (isinstance(key, str) and key.isdigit() and prefix):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            for name, reasons in flat_fields(value, path).items():
                fields.setdefault(name, []).extend(reasons)
        else:
            reasons = value if isinstance(value, list) else [value]
            fields.setdefault(path, []).extend(str(reason) for reason in reasons)
    return fields


def error_response(status: int, code: str, message: str, details: dict | None = None, headers=None):
    details = dict(details or {})
    if isinstance(details.get("fields"), dict):
        details["fields"] = flat_fields(details["fields"])
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error_response(error: DomainError):
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return error_response(error.status, error.code, error.message, error.details, headers)


def _field_errors(messages: dict) -> dict:
    """webargs says {"json": {"name": ["..."]}}; clients want the field names, wherever
    they came from (body, query string, path)."""
    fields: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            fields.update(flat_fields(location_errors))
        else:
            fields.setdefault("_body", []).extend(location_errors)
    return fields


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def http_error_response(error: HTTPException):
    if isinstance(error, InternalServerError):
        # Never tell a client what broke inside; the log has it.
        log.error("unhandled error", exc_info=error.original_exception or error)
        return error_response(500, "internal_error", "Internal server error.")
    data = getattr(error, "data", None) or {}
    # Werkzeug's own headers of the error: Allow on a 405.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    details = {}
    message = data.get("message") or error.description or error.name
    if "messages" in data:
        details = {"fields": _field_errors(data["messages"])}
        if list(details["fields"]) == ["_body"]:
            message = " ".join(details["fields"]["_body"])  # e.g. malformed JSON
        else:
            message = "Some fields are not valid: " + ", ".join(sorted(details["fields"])) + "."
    elif error.code == 404:
        message = "No such resource."
    code = _CODES.get(error.code or 500, error.name.lower().replace(" ", "_"))
    return error_response(error.code or 500, code, message, details, headers)


# The database cannot be reached (restarting, failing over, its pool exhausted): a client
# should try again shortly, and nothing of its request was stored.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (DBAPIError, DisconnectionError, PoolTimeoutError)


def database_error_response(error: Exception):
    """503 with Retry-After for a database that is away; a 500 for any other database error
    (a DBAPIError that is neither an OperationalError nor a lost connection)."""
    unavailable = not isinstance(error, DBAPIError) or (
        isinstance(error, OperationalError) or error.connection_invalidated
    )
    if not unavailable:
        return http_error_response(InternalServerError(original_exception=error))
    log.warning("database unavailable: %s", getattr(error, "orig", None) or error)
    return error_response(
        503,
        "database_unavailable",
        f"The database is not available; try again in {DATABASE_RETRY_AFTER_SECONDS} seconds.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


# Two requests adding the same key at once, or a change to a row removed meanwhile: the
# database refuses the second, at the commit or a flush; nothing of it was stored.
CONFLICT_MESSAGE = (
    "This change conflicts with one made at the same time, or with data that already exists. "
    "Nothing was saved; try again."
)


def integrity_error_response(error: IntegrityError):
    """409 for a write refused as a conflict; a 500 for any other refusal (a NOT NULL or CHECK
    constraint: a bug of ours). The client is never told the SQL; the log names the constraint."""
    constraint = conflict_constraint(error)
    if constraint is None:
        return database_error_response(error)
    log.warning("write refused as a conflict: %s", constraint)
    return error_response(409, "conflict", CONFLICT_MESSAGE)


def init_json_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, domain_error_response)
    for database_error in DATABASE_ERRORS:
        app.register_error_handler(database_error, _database_error)
    # More precise than DBAPIError, of which it is one, so Flask chooses it for its own.
    app.register_error_handler(IntegrityError, _integrity_error)


def _http_error(error: HTTPException):
    if not is_json_door(request.path):
        return _page(error)
    return http_error_response(error)


def _page(error: HTTPException):
    """The portal's page for the error, where it has one (app.extensions["error_page"]);
    else werkzeug's own."""
    page = current_app.extensions.get("error_page")
    return page(error) if page else error


def _database_error(error: Exception):
    if not is_json_door(request.path):
        raise error  # the portal renders its own error pages
    return database_error_response(error)


def _integrity_error(error: IntegrityError):
    if not is_json_door(request.path):
        raise error  # the portal renders its own error pages
    return integrity_error_response(error)
