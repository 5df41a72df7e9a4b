from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import broadcast_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import PageArgs, page_of
from service.broadcasts import broadcasts as service
from service.broadcasts.models import Broadcast
from service.db import get_in_chain

blp = Blueprint(
    "broadcasts",
    __name__,
    url_prefix="/broadcasts",
    description="One message from the brand to many delivery groups, within each customer's "
    "monthly quota (the chain's broadcast_quota; by default as many as the month has days).",
)


@blp.route("")
class Broadcasts(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(schemas.Broadcast, "BroadcastPage"))
    def get(self, args):
        """List broadcasts, newest first"""
        page = service.list_broadcasts(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.BroadcastCreate)
    @blp.response(201, schemas.Broadcast)
    def post(self, data):
        """Send a message to the groups of the customers with a tag, of a dealer, or all;
        customers over this month's quota are skipped and counted"""
        broadcast = service.send_broadcast(db(), chain_id=g.chain_id, **data)
        return broadcast


@blp.route("/<uuid:broadcast_id>")
@blp.response(200, schemas.Broadcast)
def get_broadcast(broadcast_id: uuid.UUID):
    """Read a broadcast and how many it reached"""
    return get_in_chain(db(), Broadcast, g.chain_id, broadcast_id)
