from __future__ import annotations

import uuid

from flask import Response, g, stream_with_context
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import delivery_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import columns_of, page_of
from service.db import get_in_chain
from service.groups import groups as service
from service.groups.archive import FORMATS, MEDIA_TYPES
from service.groups.messages import iter_history, list_messages, post_message
from service.groups.models import DeliveryGroup

blp = Blueprint(
    "groups",
    __name__,
    url_prefix="/groups",
    description="Delivery groups (one per customer), their seats and their messages.",
)


def group_out(group: DeliveryGroup) -> dict:
    columns = columns_of(group)
    return {**columns, "seats": service.seats(db(), group.id)}


@blp.route("")
@blp.arguments(schemas.GroupQuery, location="query")
@blp.response(200, page_of(schemas.Group, "GroupPage"))
def list_groups(args):
    """List delivery groups, newest first"""
    page = service.list_groups(db(), chain_id=g.chain_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/<uuid:group_id>")
class GroupById(MethodView):
    @blp.response(200, schemas.GroupDetail)
    def get(self, group_id: uuid.UUID):
        """Read a group and who sits in it"""
        return group_out(get_in_chain(db(), DeliveryGroup, g.chain_id, group_id))

    @blp.arguments(schemas.GroupUpdate)
    @blp.response(200, schemas.GroupDetail)
    def patch(self, data, group_id: uuid.UUID):
        """Rename a group (refused while locked) or lock or unlock its name"""
        group = service.update_group(db(), chain_id=g.chain_id, group_id=group_id, **data)
        return group_out(group)


@blp.route("/<uuid:group_id>/members", methods=["POST"])
@blp.arguments(schemas.SeatCreate)
@blp.response(201, schemas.GroupDetail)
def add_member(data, group_id: uuid.UUID):
    """Seat a chain member in this group only (a factory coordinator, say); the cap holds

    The customer's own dealer, the factories and the brand may be seated. A member of another
    dealer is refused (422 on `member_id`) unless a visibility rule lets the customer's dealer
    see that dealer, as in the shared directory.
    """
    service.add_group_member(db(), chain_id=g.chain_id, group_id=group_id, **data)
    return group_out(get_in_chain(db(), DeliveryGroup, g.chain_id, group_id))


@blp.route("/<uuid:group_id>/members/<uuid:member_id>", methods=["DELETE"])
@blp.response(204)
def remove_member(group_id: uuid.UUID, member_id: uuid.UUID):
    """Take a member's seat away (not the owner's: hand the customer over instead)"""
    service.remove_group_member(db(), chain_id=g.chain_id, group_id=group_id, member_id=member_id)


@blp.route("/<uuid:group_id>/messages")
class Messages(MethodView):
    @blp.arguments(schemas.MessageQuery, location="query")
    @blp.response(200, page_of(schemas.Message, "MessagePage"))
    def get(self, args, group_id: uuid.UUID):
        """Messages newest first; or, with `since`, the ones after it, oldest first"""
        group = get_in_chain(db(), DeliveryGroup, g.chain_id, group_id)
        page = list_messages(db(), group_id=group.id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.MessageCreate)
    @blp.response(201, schemas.PostedMessages)
    @blp.alt_response(
        200, schema=schemas.PostedMessages, description="a repeated client_message_id"
    )
    def post(self, data, group_id: uuid.UUID):
        """Post a member's or the customer's message; moderated by the group's template"""
        group = get_in_chain(db(), DeliveryGroup, g.chain_id, group_id)
        stored, created = post_message(db(), group=group, **data)
        return {"items": stored}, 201 if created else 200


@blp.route("/<uuid:group_id>/messages/export", methods=["GET"])
@blp.arguments(schemas.ExportQuery, location="query")
@blp.response(200, description="the whole history, oldest first, streamed")
def export_messages(args, group_id: uuid.UUID):
    """Stream a group's whole history as JSON lines or CSV"""
    group = get_in_chain(db(), DeliveryGroup, g.chain_id, group_id)
    messages = iter_history(db(), chain_id=g.chain_id, group_ids=[group.id])
    body = stream_with_context(FORMATS[args["format"]](messages))
    filename = f"group-{group.id}.{args['format']}"
    return Response(
        body,
        mimetype=MEDIA_TYPES[args["format"]],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
