"""The customer's private links through the brand API: made (the URL shown once), listed
without their URLs, revoked; a customer's link opens that customer's view only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.customers.models import CustomerLink
from tests.blueprints.brand_api.chain_world import API, assert_error, bad_fields, body


def make_link(tenant, customer_id, **fields):
    return tenant.post(f"{API}/customers/{customer_id}/links", json=fields)


def test_a_link_is_made_shown_once_and_listed_without_its_url(tenant, shop, connection):
    customer = shop.customer()
    link = body(make_link(tenant, customer["id"]), 201)
    assert link["state"] == "active"
    assert link["url"].startswith("https://chain.example/c/")  # PUBLIC_URL's
    token = link["url"].rsplit("/", 1)[1]
    assert len(token) >= 30
    days = (_at(link["expires_at"]) - _at(link["created_at"])).days
    assert days == 90
    listed = body(tenant.get(f"{API}/customers/{customer['id']}/links"))["items"]
    assert [item["id"] for item in listed] == [link["id"]]
    assert "url" not in listed[0]
    # Only a hash of the token is stored.
    stored = connection.scalars(select(CustomerLink.token_hash)).all()
    assert token not in stored and len(stored[0]) == 64


def test_the_days_are_bounded(tenant, shop):
    customer = shop.customer()
    assert body(make_link(tenant, customer["id"], days=7), 201)
    for days in (0, 366, 10**20, "soon"):
        assert "days" in bad_fields(make_link(tenant, customer["id"], days=days))


def test_a_revoked_link_says_so_and_revoking_again_changes_nothing(tenant, shop, client):
    customer = shop.customer()
    link = body(make_link(tenant, customer["id"]), 201)
    path = f"{API}/customers/{customer['id']}/links/{link['id']}"
    revoked = body(tenant.delete(path))
    assert revoked["state"] == "revoked" and revoked["revoked_at"]
    assert body(tenant.delete(path))["revoked_at"] == revoked["revoked_at"]
    page = client.get(link["url"].removeprefix("https://chain.example"))
    assert page.status_code == 410


def test_another_customers_link_cannot_be_revoked_through_this_customer(tenant, shop):
    first, second = shop.customer("Chen Jing"), shop.customer("Li Na")
    link = body(make_link(tenant, first["id"]), 201)
    response = tenant.delete(f"{API}/customers/{second['id']}/links/{link['id']}")
    assert_error(response, 404, "not_found")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
