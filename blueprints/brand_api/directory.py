from __future__ import annotations

from flask import g

from blueprints import db
from blueprints.brand_api import schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from service.chain.directory import shared_directory

blp = Blueprint(
    "directory",
    __name__,
    url_prefix="/directory",
    description="The shared directory: the chain's members as one member may see them.",
)


@blp.route("", methods=["GET"])
@blp.arguments(schemas.DirectoryQuery, location="query")
@blp.response(200, schemas.page_of(schemas.DirectoryEntry, "DirectoryPage"))
def directory(args):
    """The shared directory as viewer_member_id sees it (mobiles masked outside their
    organisation), or the brand's full view without it"""
    page = shared_directory(db(), chain_id=g.chain_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor}
