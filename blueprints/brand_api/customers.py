from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import delivery_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import columns_of, page_of
from blueprints.json_errors import ErrorSchema
from service.customers import customers as service
from service.customers.handovers import hand_over
from service.customers.models import Customer
from service.db import get_in_chain
from service.groups.groups import group_of_customer

blp = Blueprint(
    "customers",
    __name__,
    description="End customers: assets of the brand, each served by one dealer member.",
)


def customer_out(customer: Customer) -> dict:
    group = group_of_customer(db(), customer.id)
    columns = columns_of(customer)
    return {**columns, "group_id": group.id if group else None}


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(schemas.CustomerQuery, location="query")
    @blp.response(200, page_of(schemas.Customer, "CustomerPage"))
    def get(self, args):
        """List customers, newest first"""
        page = service.list_customers(db(), chain_id=g.chain_id, **args)
        return {"items": [customer_out(c) for c in page.items], "next_cursor": page.next_cursor}

    @blp.arguments(schemas.CustomerCreate)
    @blp.response(201, schemas.Customer)
    @blp.alt_response(
        200,
        schema=schemas.Customer,
        description="the mobile is known, with the same dealer, owner and name: that customer",
    )
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="`customer_exists`: the mobile is known with another dealer, owner or "
        'name; `details`: `{"customer_id", "differs": [field, ...]}`',
    )
    def post(self, data):
        """Add a customer; a mobile the chain knows already is never a second customer

        Mobiles compare in E.164, whatever their format. A known mobile with the same
        dealer, owner and name (trimmed, Unicode NFC; case counts) answers 200 with that
        customer; with another dealer, owner or name, 409 `customer_exists` names the
        customer and the fields that differ, for you to change them (PATCH) or hand the
        customer over. Nothing changes either way; tags and notes are not compared.
        """
        customer, created = service.add_customer(db(), chain_id=g.chain_id, **data)
        return customer_out(customer), 201 if created else 200


@blp.route("/customers/<uuid:customer_id>")
class CustomerById(MethodView):
    @blp.response(200, schemas.Customer)
    def get(self, customer_id: uuid.UUID):
        """Read a customer"""
        return customer_out(get_in_chain(db(), Customer, g.chain_id, customer_id))

    @blp.arguments(schemas.CustomerUpdate)
    @blp.response(200, schemas.Customer)
    def patch(self, data, customer_id: uuid.UUID):
        """Change a customer's name, mobile, tags or notes"""
        customer = service.update_customer(
            db(), chain_id=g.chain_id, customer_id=customer_id, **data
        )
        return customer_out(customer)


@blp.route("/handovers", methods=["POST"])
@blp.arguments(schemas.HandoverCreate)
@blp.response(201, schemas.Handover)
def create_handover(data):
    """Move every customer, group and seat of one member to a colleague, in one step"""
    handover = hand_over(db(), chain_id=g.chain_id, **data)
    return handover
