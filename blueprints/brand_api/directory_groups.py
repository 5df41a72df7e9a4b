from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain import directory_groups as service
from service.chain.models import DirectoryGroup
from service.db import get_in_chain

blp = Blueprint(
    "directory_groups",
    __name__,
    url_prefix="/directory-groups",
    description="The chain's directory tree; organisations are placed in its groups.",
)


@blp.route("")
class DirectoryGroups(MethodView):
    @blp.arguments(schemas.DirectoryGroupQuery, location="query")
    @blp.response(200, schemas.page_of(schemas.DirectoryGroup, "DirectoryGroupPage"))
    def get(self, args):
        """List directory groups (all, or the children of parent_id)"""
        page = service.list_groups(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.DirectoryGroupCreate)
    @blp.response(201, schemas.DirectoryGroup)
    @blp.alt_response(200, schema=schemas.DirectoryGroup, description="the path existed already")
    def post(self, data):
        """Create a group under parent_id, or find-or-create every level of a path"""
        if "path" in data:
            group, created = service.ensure_path(db(), chain_id=g.chain_id, path=data["path"])
        else:
            group, created = service.create_group(db(), chain_id=g.chain_id, **data), True
        return group, 201 if created else 200


@blp.route("/<uuid:group_id>")
class DirectoryGroupById(MethodView):
    @blp.response(200, schemas.DirectoryGroup)
    def get(self, group_id: uuid.UUID):
        """Read a directory group"""
        return get_in_chain(db(), DirectoryGroup, g.chain_id, group_id)

    @blp.arguments(schemas.DirectoryGroupUpdate)
    @blp.response(200, schemas.DirectoryGroup)
    def patch(self, data, group_id: uuid.UUID):
        """Rename a group or move it (with everything below it)"""
        group = service.update_group(
            db(),
            chain_id=g.chain_id,
            group_id=group_id,
            name=data.get("name"),
            parent_id=data.get("parent_id"),
            move="parent_id" in data,
        )
        return group

    @blp.response(204)
    def delete(self, group_id: uuid.UUID):
        """Delete a group without subgroups; its placements and rules go with it"""
        service.delete_group(db(), chain_id=g.chain_id, group_id=group_id)
