from __future__ import annotations

import uuid

from flask import g, request
from flask.views import MethodView
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest

from blueprints import db
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import columns_of
from service.chain import imports as service
from service.chain.import_files import ImportRow, rows_from_csv, rows_from_json
from service.chain.models import Import
from service.db import get_in_chain
from service.errors import DomainError, Invalid, UnsupportedMediaType

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/imports",
    description="Bulk import of organisations with their members and directory group paths.",
)

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": schemas.ImportRequest},
        "text/csv": {
            "schema": {"type": "string"},
            "example": "custom_id,kind,name,groups,member_name,member_role,member_mobile,"
            "member_email\nD-001,dealer,Pudong Store,East/Shanghai/Pudong,Li Wei,"
            "service_specialist,13812345678,li.wei@example.com\n",
        },
    },
}


def _rows_from_request() -> tuple[list[ImportRow], str]:
    if request.mimetype == "text/csv":
        return rows_from_csv(request.get_data()), "api:csv"
    if not request.is_json:
        raise UnsupportedMediaType("Send application/json ({'organisations': [...]}) or text/csv.")
    try:
        payload = request.get_json()
    except BadRequest:
        # As everywhere in the API: a body that is not JSON is a 400, not a 422.
        raise DomainError("Invalid JSON body.") from None
    try:
        schemas.ImportRequest().load(payload)
    except ValidationError as error:
        raise Invalid("The import is not valid.", details={"fields": error.messages}) from None
    return rows_from_json(payload), "api:json"


@blp.route("")
class Imports(MethodView):
    @blp.arguments(schemas.PageArgs, location="query")
    @blp.response(200, schemas.page_of(schemas.Import, "ImportPage"))
    def get(self, args):
        """List past imports and their outcome"""
        page = service.list_imports(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.doc(requestBody=_REQUEST_BODY)
    @blp.response(201, schemas.ImportResult)
    def post(self):
        """Import organisations with members and group paths; each row is reported on its
        own, a bad row never blocks the others, and re-running a file changes nothing"""
        rows, source = _rows_from_request()
        record, results = service.run_import(db(), chain_id=g.chain_id, rows=rows, source=source)
        columns = columns_of(record)
        return {**columns, "results": results}


@blp.route("/<uuid:import_id>")
@blp.response(200, schemas.Import)
def get_import(import_id: uuid.UUID):
    """Read a past import and its errors"""
    return get_in_chain(db(), Import, g.chain_id, import_id)
