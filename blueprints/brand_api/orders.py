from __future__ import annotations

import uuid

from flask import current_app, g
from flask.views import MethodView

from blueprints import db
from blueprints.brand_api import delivery_schemas as schemas
from blueprints.brand_api.blueprint import ApiBlueprint as Blueprint
from blueprints.brand_api.schemas import columns_of, page_of
from service.db import get_in_chain
from service.groups.groups import group_of_customer
from service.orders import orders as service
from service.orders.models import Order, WorkItem
from service.orders.promises import change_promise, own_promise
from service.progress.recording import record_progress

blp = Blueprint(
    "orders",
    __name__,
    description="Orders, split into work items per factory, and their milestone timeline.",
)


def item_out(item: WorkItem) -> dict:
    # `promised_at`: its own promise; `promise`: the one that holds (its own, else its order's).
    return {**columns_of(item), "promised_at": own_promise(item), "promise": item.promised_at}


def order_out(order: Order) -> dict:
    group = group_of_customer(db(), order.customer_id)
    columns = columns_of(order)
    return {
        **columns,
        "group_id": group.id if group else None,
        "items": [item_out(item) for item in order.items],
        "timeline": service.timeline(db(), order.id),
    }


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(schemas.OrderQuery, location="query")
    @blp.response(200, page_of(schemas.OrderSummary, "OrderPage"))
    def get(self, args):
        """List orders, newest first; filter by dealer, customer, factory or milestone"""
        page = service.list_orders(db(), chain_id=g.chain_id, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(schemas.OrderCreate)
    @blp.response(201, schemas.Order)
    @blp.alt_response(200, schema=schemas.Order, description="a repeat: the first order")
    def post(self, data):
        """Place an order; the customer's first order opens their delivery group"""
        items = [service.ItemRequest(**item) for item in data.pop("items")]
        # The customer's link in a welcome: under PUBLIC_URL, else its path alone (the
        # request's own address may be one the customer cannot reach).
        public_url = current_app.extensions["chain_collab.config"].public_url
        order, _, created = service.place_order(
            db(), chain_id=g.chain_id, items=items, public_url=public_url, **data
        )
        return order_out(order), 201 if created else 200


@blp.route("/orders/<uuid:order_id>")
class OrderById(MethodView):
    @blp.response(200, schemas.Order)
    def get(self, order_id: uuid.UUID):
        """Read an order with its work items and milestone timeline"""
        return order_out(get_in_chain(db(), Order, g.chain_id, order_id))

    @blp.arguments(schemas.OrderUpdate)
    @blp.response(200, schemas.Order)
    def patch(self, data, order_id: uuid.UUID):
        """Book the order's installation, or change the date promised for it

        `installation_at` is a date and time with its offset (a time without one is refused),
        or null to cancel. Refused with 422 naming the field, nothing stored, when it falls
        outside the years 1-9999 in UTC, before the order was placed, or more than two years
        ahead. The portal's page of what needs attention lists the orders to be installed
        today and tomorrow, in the chain's time zone.

        `promised_at` is the date promised to the customer for the whole order (a work item
        with its own keeps it), under the same rules; null withdraws it. A change or a
        withdrawal needs a `reason`; each is kept in the timeline as an entry of kind
        `promise`. The same date again changes nothing.
        """
        order = get_in_chain(db(), Order, g.chain_id, order_id)
        if "promised_at" in data:
            change_promise(
                db(),
                chain_id=g.chain_id,
                order_id=order.id,
                promised_at=data["promised_at"],
                reason=data["reason"],
            )
        if "installation_at" in data:
            service.set_installation(
                db(),
                chain_id=g.chain_id,
                order_id=order.id,
                installation_at=data["installation_at"],
            )
        return order_out(order)


@blp.route("/work-items/<uuid:work_item_id>", methods=["PATCH"])
@blp.arguments(schemas.WorkItemUpdate)
@blp.response(200, schemas.WorkItem)
def patch_work_item(data, work_item_id: uuid.UUID):
    """Change the date promised for one work item alone

    As an order's promise (PATCH /orders/{id}): `promised_at` with its offset, not before the
    order was placed, at most two years ahead; null: the order's promise holds again. A change
    or a withdrawal needs a `reason`, kept in the order's timeline.
    """
    item = get_in_chain(db(), WorkItem, g.chain_id, work_item_id)
    order = get_in_chain(db(), Order, g.chain_id, item.order_id)
    if "promised_at" in data:
        change_promise(
            db(),
            chain_id=g.chain_id,
            order_id=order.id,
            work_item_id=item.id,
            promised_at=data["promised_at"],
            reason=data["reason"],
        )
    return item_out(item)


@blp.route("/work-items/<uuid:work_item_id>/progress", methods=["POST"])
@blp.arguments(schemas.ProgressCreate)
@blp.response(200, schemas.Progress)
def post_progress(data, work_item_id: uuid.UUID):
    """Record that a work item reached a milestone (factories use their signed webhook)

    A report behind what is known is kept in the timeline as late and changes nothing else.
    Dates are refused (422 naming the field, nothing stored) when their UTC value falls
    outside the years 1-9999; when `occurred_at` is more than a day in the future, or before
    the work item was created (5 minutes' grace for a slow clock); when `eta` is before
    `occurred_at` (or before now, when `occurred_at` is not given).
    """
    item = get_in_chain(db(), WorkItem, g.chain_id, work_item_id)
    progress = record_progress(db(), work_item=item, actor="api", **data)
    order = get_in_chain(db(), Order, g.chain_id, item.order_id)
    return {
        "moved": progress.moved,
        "work_item": item_out(item),
        "order_milestone": order.milestone,
    }
