"""The smallest chain with an order: a dealer with its admin, a customer, and one order whose
items are made at factories named by the items. The customer's delivery group comes with it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.models import Chain, Organisation
from service.chain.organisations import add_organisation
from service.customers.customers import add_customer
from service.groups.models import DeliveryGroup
from service.orders.models import Order
from service.orders.orders import ItemRequest, place_order


@dataclass
class OneOrder:
    chain: Chain
    factories: dict[str, tuple[Organisation, str]]  # by name: the factory and its secret
    order: Order
    group: DeliveryGroup


def place_one_order(session: Session, items: list[tuple[str, str, int, str | None]]) -> OneOrder:
    """`items`: (factory name, description, quantity, the factory's own reference)."""
    chain, _ = create_chain(session, name="Acme Home")
    dealer, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="Pudong")
    factories = {
        name: add_organisation(session, chain_id=chain.id, kind="factory", name=name)
        for name in dict.fromkeys(name for name, *_ in items)
    }
    owner = add_member(
        session, chain_id=chain.id, organisation_id=dealer.id, name="Wang", role="admin"
    )
    customer, _ = add_customer(
        session, chain_id=chain.id, name="Zhang San", mobile="13912345678",
        dealer_id=dealer.id, owner_member_id=owner.id,
    )  # fmt: skip
    order, group, _ = place_order(
        session, chain_id=chain.id, customer_id=customer.id, dealer_id=dealer.id,
        reference="SO-1",
        items=[
            ItemRequest(factories[name][0].id, description, quantity, reference)
            for name, description, quantity, reference in items
        ],
    )  # fmt: skip
    return OneOrder(chain, factories, order, group)
