"""/customers/{id}/links: the customer's private links, made, listed and revoked by the brand
(the customer's owner makes them in the portal too)."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import g
from flask.views import MethodView
from marshmallow import validate

from blueprints import db, public_base_url
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.doors import customer_link_url
from service.customers import links as service
from service.customers.models import CustomerLink

blp = Blueprint(
    "customer_links",
    __name__,
    description="A customer's private links: one customer's progress and group on their phone, "
    "without an account.",
)


class LinkCreate(ma.Schema):
    days = ma.fields.Integer(
        load_default=service.DEFAULT_DAYS,
        validate=validate.Range(1, service.MAX_DAYS),
        metadata={"description": "How long the link works, in days (90 unless said)."},
    )


class Link(ma.Schema):
    id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True)
    state = ma.fields.String(required=True, metadata={"description": "active, revoked, expired"})
    created_at = ma.fields.DateTime(required=True)
    expires_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    last_opened_at = ma.fields.DateTime(allow_none=True)
    url = ma.fields.String(
        metadata={"description": "Only in the answer that made the link: it is not kept."}
    )


class LinkList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Link), required=True)


def link_out(link: CustomerLink, token: str | None = None) -> dict:
    out = {
        "id": link.id,
        "customer_id": link.customer_id,
        "state": service.link_state(link),
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "last_opened_at": link.last_opened_at,
    }
    if token is not None:
        out["url"] = customer_link_url(public_base_url(), token)
    return out


@blp.route("/customers/<uuid:customer_id>/links")
class Links(MethodView):
    @blp.response(200, LinkList)
    def get(self, customer_id: uuid.UUID):
        """List a customer's links, newest first (without their URLs, which are not kept)"""
        found = service.list_links(db(), chain_id=g.chain_id, customer_id=customer_id)
        return {"items": [link_out(link) for link in found]}

    @blp.arguments(LinkCreate)
    @blp.response(201, Link)
    def post(self, data, customer_id: uuid.UUID):
        """Make a private link to the customer's view; its URL is shown in this answer only

        Whoever has the URL sees this customer's orders and group and can write in it as the
        customer, until it expires or is revoked. Put it in the welcome message with the
        `{customer_link}` placeholder, or send it yourself.
        """
        link, token = service.create_link(
            db(), chain_id=g.chain_id, customer_id=customer_id, days=data["days"]
        )
        return link_out(link, token)


@blp.route("/customer-links/<uuid:link_id>", methods=["DELETE"])
@blp.response(200, Link)
def revoke(link_id: uuid.UUID):
    """Revoke a link: from now on it shows a page saying it was withdrawn

    Revoking it again changes nothing and answers the same. A page open on the link stops
    showing new messages at once.
    """
    return link_out(service.revoke_link(db(), chain_id=g.chain_id, link_id=link_id))


@blp.route("/customers/<uuid:customer_id>/links/<uuid:link_id>", methods=["DELETE"])
@blp.response(200, Link)
def revoke_of_customer(customer_id: uuid.UUID, link_id: uuid.UUID):
    """Revoke a link of this customer (the same as DELETE /customer-links/{id})"""
    link = service.revoke_link(db(), chain_id=g.chain_id, customer_id=customer_id, link_id=link_id)
    return link_out(link)
