from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain import visibility as service
from service.chain.models import VisibilityRule
from service.db import get_in_chain

blp = Blueprint(
    "visibility_rules",
    __name__,
    url_prefix="/visibility-rules",
    description="Directory group A may see the members of directory group B.",
)


@blp.route("")
class VisibilityRules(MethodView):
    @blp.arguments(schemas.PageArgs, location="query")
    @blp.response(200, schemas.page_of(schemas.VisibilityRule, "VisibilityRulePage"))
    def get(self, args):
        """List visibility rules"""
        page = service.list_rules(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.VisibilityRuleCreate)
    @blp.response(201, schemas.VisibilityRule)
    @blp.alt_response(200, schema=schemas.VisibilityRule, description="the rule existed already")
    def post(self, data):
        """Let one directory group see another (and everything below each)"""
        rule, created = service.add_rule(db(), chain_id=g.chain_id, **data)
        return rule, 201 if created else 200


@blp.route("/<uuid:rule_id>")
class VisibilityRuleById(MethodView):
    @blp.response(200, schemas.VisibilityRule)
    def get(self, rule_id: uuid.UUID):
        """Read a visibility rule"""
        return get_in_chain(db(), VisibilityRule, g.chain_id, rule_id)

    @blp.response(204)
    def delete(self, rule_id: uuid.UUID):
        """Delete a visibility rule"""
        service.delete_rule(db(), chain_id=g.chain_id, rule_id=rule_id)
