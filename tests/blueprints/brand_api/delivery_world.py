"""A dealer with its people and a factory, made through the API, and the steps of the delivery
side as one-line calls: add a customer, place an order, record progress, post a message."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from tests.blueprints.brand_api.chain_world import API, body

_numbers = count(1)


def new_mobile() -> str:
    """A valid mainland mobile no other call has returned, in E.164."""
    return f"+86139{next(_numbers):08d}"


def add_organisation(tenant, kind: str, name: str, group_ids: list[str] | None = None) -> str:
    payload = {"kind": kind, "name": name, "group_ids": group_ids or []}
    return body(tenant.post(f"{API}/organisations", json=payload), 201)["id"]


def add_member(tenant, organisation_id: str, role: str, name: str | None = None) -> str:
    payload = {"name": name or f"{role} {next(_numbers)}", "role": role}
    path = f"{API}/organisations/{organisation_id}/members"
    return body(tenant.post(path, json=payload), 201)["id"]


@dataclass
class Shop:
    """A dealer with a service specialist (who owns customers), a designer, an installer and
    a salesperson; a factory with a coordinator."""

    tenant: object
    dealer_id: str
    owner_id: str
    designer_id: str
    installer_id: str
    sales_id: str
    factory_id: str
    coordinator_id: str

    def add_customer(self, name: str = "Chen Jing", mobile: str | None = None, **changes):
        payload = {
            "name": name,
            "mobile": mobile or new_mobile(),
            "dealer_id": self.dealer_id,
            "owner_member_id": self.owner_id,
            **changes,
        }
        return self.tenant.post(f"{API}/customers", json=payload)

    def customer(self, name: str = "Chen Jing", **changes) -> dict:
        return body(self.add_customer(name, **changes), 201)

    def order_body(self, customer_id: str, reference: str, items: list[dict] | None = None):
        return {
            "customer_id": customer_id,
            "dealer_id": self.dealer_id,
            "reference": reference,
            "items": [{"factory_id": self.factory_id, "description": "Wardrobe", "quantity": 1}]
            if items is None
            else items,
        }

    def place(self, customer_id: str, reference: str, items: list[dict] | None = None):
        body_ = self.order_body(customer_id, reference, items)
        return self.tenant.post(f"{API}/orders", json=body_)

    def order(self, customer_id: str, reference: str, items: list[dict] | None = None) -> dict:
        return body(self.place(customer_id, reference, items), 201)

    def progress(self, work_item_id: str, milestone: str, **extra) -> dict:
        path = f"{API}/work-items/{work_item_id}/progress"
        return body(self.tenant.post(path, json={"milestone": milestone, **extra}), 200)

    def group(self, group_id: str) -> dict:
        return body(self.tenant.get(f"{API}/groups/{group_id}"))

    def post_message(self, group_id: str, text: str, sender: str = "customer", **extra):
        payload = {"text": text, "sender": sender, **extra}
        return self.tenant.post(f"{API}/groups/{group_id}/messages", json=payload)

    def messages(self, group_id: str, **query) -> list[dict]:
        """The group's messages, oldest first."""
        path = f"{API}/groups/{group_id}/messages"
        return body(self.tenant.get(path, query_string={"limit": 500, **query}))["items"][::-1]


def open_shop(tenant, name: str = "Pudong Store", group_ids: list[str] | None = None) -> Shop:
    dealer_id = add_organisation(tenant, "dealer", name, group_ids)
    factory_id = add_organisation(tenant, "factory", f"{name} Panel Works")
    return Shop(
        tenant=tenant,
        dealer_id=dealer_id,
        owner_id=add_member(tenant, dealer_id, "service_specialist", "Li Na"),
        designer_id=add_member(tenant, dealer_id, "designer", "Wu Lei"),
        installer_id=add_member(tenant, dealer_id, "installer", "Zhao Gang"),
        sales_id=add_member(tenant, dealer_id, "sales", "Sun Li"),
        factory_id=factory_id,
        coordinator_id=add_member(tenant, factory_id, "coordinator", "Qian Hui"),
    )
