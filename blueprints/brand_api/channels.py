from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import current_app, g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import channel_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import page_of
from service.channels import channels as service
from service.channels.urls import validate_channel_url

blp = Blueprint(
    "channels",
    __name__,
    description="Channels: outside places (group robots, callback URLs) a group's messages "
    "are pushed to, and their delivery log.",
)


def _checked(data: dict) -> dict:
    """The body with its URL checked against the outbound policy. It may wait on DNS, so it
    runs before the request's transaction begins (the first use of db()): on SQLite a write
    transaction holds the write lock, which no other request should wait on for a resolver."""
    if "url" in data:
        policy = current_app.extensions["outbound_policy"]
        data = {**data, "url": validate_channel_url(data["url"], policy)}
    return data


@dataclass
class _Created:
    """A new channel as its answer shows it: with the secret made for it, if one was (never
    the secret it was given)."""

    channel: object
    secret: str | None

    def __getattr__(self, name):
        return getattr(self.channel, name)


@blp.route("/groups/<uuid:group_id>/channels")
class GroupChannels(MethodView):
    @blp.response(200, schemas.ChannelList)
    def get(self, group_id: uuid.UUID):
        """A group's channels"""
        return {"items": service.list_channels(db(), chain_id=g.chain_id, group_id=group_id)}

    @blp.arguments(schemas.ChannelCreate)
    @blp.response(201, schemas.CreatedChannel)
    def post(self, data, group_id: uuid.UUID):
        """Push this group's messages to a robot or callback URL from now on"""
        data = _checked(data)
        channel, secret = service.create_channel(
            db(), chain_id=g.chain_id, group_id=group_id, **data
        )
        return _Created(channel, secret)


@blp.route("/channels/<uuid:channel_id>")
class ChannelById(MethodView):
    @blp.response(200, schemas.Channel)
    def get(self, channel_id: uuid.UUID):
        """Read a channel, its state and why"""
        return service.get_channel(db(), g.chain_id, channel_id)

    @blp.arguments(schemas.ChannelUpdate)
    @blp.response(200, schemas.Channel)
    def patch(self, data, channel_id: uuid.UUID):
        """Change a channel; `state: active` resumes it and sends what it held"""
        data = _checked(data)
        return service.update_channel(db(), chain_id=g.chain_id, channel_id=channel_id, **data)

    @blp.response(204)
    def delete(self, channel_id: uuid.UUID):
        """Stop pushing to a channel; its log stays"""
        service.remove_channel(db(), chain_id=g.chain_id, channel_id=channel_id)


@blp.route("/channels/<uuid:channel_id>/deliveries")
@blp.arguments(schemas.DeliveryQuery, location="query")
@blp.response(200, page_of(schemas.Delivery, "DeliveryPage"))
def list_deliveries(args, channel_id: uuid.UUID):
    """The delivery log, newest first: each message owed and every attempt at it

    A pending delivery that waits says why (`held_for`) and until when (`held_until`).
    """
    page = service.list_deliveries(db(), chain_id=g.chain_id, channel_id=channel_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/channels/<uuid:channel_id>/deliveries/<uuid:delivery_id>:retry", methods=["POST"])
@blp.response(202, schemas.Delivery)
def retry_delivery(channel_id: uuid.UUID, delivery_id: uuid.UUID):
    """Send one delivery again now (a delivered one is replayed under a new webhook-id)

    A delivery waiting after a failed push (`held_for: backoff`) goes now, with those
    waiting behind it, in order: 202. One held for quiet hours, the coalescing window or the
    rate limit answers 409 `delivery_held`, whose details say `held_for` and `held_until`:
    it goes then by itself. One being sent answers 409 `delivery_in_flight`.
    """
    return service.retry_delivery(
        db(), chain_id=g.chain_id, channel_id=channel_id, delivery_id=delivery_id
    )
