"""/api/v1: the brands' REST API. flask-smorest validates with the marshmallow schemas in
schemas.py and derives the OpenAPI document (/api/v1/openapi.json) from the same schemas."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

import flask_swagger_ui
from apispec import BasePlugin
from flask import Flask, g, request, send_from_directory
from flask_smorest import Api

from blueprints import read_db
from blueprints.doors import API_PREFIX, DOCS_PATH
from blueprints.json_bodies import MAX_DEPTH
from blueprints.json_errors import ErrorSchema
from service.chain.chains import chain_for_api_key
from service.errors import Unauthorized

# Swagger UI's assets come from the flask-swagger-ui wheel and are served by us: no CDN.
SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"


class ErrorResponses(BasePlugin):
    """Lists in every operation the 4xx answers it can give, so that a client generator sees
    them: 401 everywhere (a key is needed); 404 where the path names a resource; 400, 413 and
    422 where a JSON body is read; 415 where the body may be of more than one type; 422 where
    a query string is read or a change is judged by the domain; 409 for changes."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            body = operation.get("requestBody", {}).get("content", {})
            query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            codes = {401}
            if "{" in (path or ""):
                codes.add(404)
            if body:
                codes |= {400, 413, 422}
            if len(body) > 1:
                codes.add(415)
            if query or method != "get":
                codes.add(422)
            if method in ("post", "put", "patch", "delete"):
                codes.add(409)
            for code in sorted(codes):
                # By the name flask-smorest registers each status's error response under.
                responses.setdefault(code, HTTPStatus(code).name)


class BrandApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass  # the JSON doors' own (blueprints/json_errors.py), registered by create_app


def authenticate() -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    # Read-only: a write transaction begins only when a view writes (db() ends this one
    # first), and a refused key never takes SQLite's write lock.
    chain_id = chain_for_api_key(read_db(), key.strip())
    if chain_id is None:
        raise Unauthorized("Unknown or revoked API key.")
    g.chain_id = chain_id


def init_brand_api(app: Flask) -> None:
    from blueprints.brand_api import (
        broadcasts,
        chain_settings,
        channels,
        customer_links,
        customers,
        directory,
        directory_groups,
        group_templates,
        groups,
        imports,
        invitations,
        members,
        orders,
        organisations,
        reports,
        visibility_rules,
    )

    app.config.update(
        API_TITLE="Chain Collab brand API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH=DOCS_PATH.removeprefix(API_PREFIX + "/"),
        OPENAPI_SWAGGER_UI_URL=f"{DOCS_PATH}/assets/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}},
            "security": [{"apiKey": []}],
            "info": {
                "description": "Manage a brand's chain: organisations, members, invitations, "
                "directory groups, visibility rules and the shared directory. Authenticate "
                "with `Authorization: Bearer <api key>`; errors are "
                '`{"error": {"code", "message", "details"}}`, and `details.fields` names '
                "every bad field at once by its path (`name`, `items[0].quantity`, "
                "`quiet_hours.start`).\n\n"
                "Limits on input: JSON nested deeper than "
                f"{MAX_DEPTH} levels is a 400; NUL characters and lone UTF-16 surrogates in "
                "any string or key, integers beyond 64 bits, NaN and Infinity are a 422; a "
                "date and time must carry its offset and fall within the years 1 to 9999 in "
                "UTC. Names (of organisations, members, customers, groups, templates, "
                "directory groups, channels, the chain) are normalised: Unicode NFC, "
                "bidirectional controls and zero-width characters removed, whitespace "
                "collapsed; a name with a control character, or nothing visible left, is a "
                "422. A CSV import must be UTF-8 (a BOM is fine) with fields under 128 KiB, "
                "else a 422 names the line. In a CSV export, a cell that begins with `=`, "
                "`+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so that a "
                "spreadsheet shows it rather than running it."
            },
        },
    )
    api = BrandApi(app, spec_kwargs={"extra_plugins": [ErrorResponses()]})
    for module in (
        organisations,
        members,
        invitations,
        imports,
        directory_groups,
        visibility_rules,
        directory,
        customers,
        customer_links,
        orders,
        group_templates,
        groups,
        channels,
        chain_settings,
        broadcasts,
        reports,
    ):
        # The blueprints are module-level objects: a second app in one process (a test's live
        # server) registers them again, and Flask refuses new hooks on them by then.
        if authenticate not in module.blp.before_request_funcs.get(None, []):
            module.blp.before_request(authenticate)
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + (module.blp.url_prefix or ""))

    @app.get(f"{DOCS_PATH}/assets/<path:filename>")
    def swagger_assets(filename: str):
        return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)
