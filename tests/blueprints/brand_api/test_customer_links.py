"""The customer's private links through the brand API: made (the URL shown once), listed
without their URLs, revoked (by the link's own path, or under its customer); a customer's
link opens that customer's view only; a welcome message can carry a new one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from service.customers.models import CustomerLink
from service.tokens import secret_hash
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


def test_a_link_is_revoked_by_its_own_path_as_the_contract_names_it(tenant, shop, client):
    customer = shop.customer()
    link = body(make_link(tenant, customer["id"]), 201)
    revoked = body(tenant.delete(f"{API}/customer-links/{link['id']}"))
    assert revoked["id"] == link["id"] and revoked["state"] == "revoked"
    again = body(tenant.delete(f"{API}/customer-links/{link['id']}"))
    assert again["revoked_at"] == revoked["revoked_at"]
    # The path under the customer answers the same for it.
    path = f"{API}/customers/{customer['id']}/links/{link['id']}"
    assert body(tenant.delete(path))["revoked_at"] == revoked["revoked_at"]
    assert client.get(link["url"].removeprefix("https://chain.example")).status_code == 410


def test_another_chains_link_cannot_be_revoked_by_its_id(tenant, other_tenant, shop, connection):
    link = body(make_link(tenant, shop.customer()["id"]), 201)
    assert_error(other_tenant.delete(f"{API}/customer-links/{link['id']}"), 404, "not_found")
    # An id that differs in its last digit names no link, whatever that digit was.
    near_miss = link["id"][:-1] + ("1" if link["id"].endswith("0") else "0")
    assert_error(tenant.delete(f"{API}/customer-links/{near_miss}"), 404)
    assert connection.scalar(select(CustomerLink.revoked_at)) is None


def _welcome_with_link(tenant, shop, text: str) -> tuple[dict, str]:
    [default] = body(tenant.get(f"{API}/group-templates"))["items"]
    body(tenant.patch(f"{API}/group-templates/{default['id']}", json={"welcome_message": text}))
    customer = shop.customer("Chen Jing")
    order = shop.order(customer["id"], "SO-LINK-1")
    [welcome] = [m for m in shop.messages(order["group_id"]) if m["kind"] == "welcome"]
    return customer, welcome["text"]


def test_the_welcome_carries_a_new_link_of_the_customers(tenant, shop, client, connection):
    customer, text = _welcome_with_link(
        tenant, shop, "Welcome {customer_name}! Follow your order here: {customer_link} {{ok}}"
    )
    assert text.startswith("Welcome Chen Jing! Follow your order here: https://chain.example/c/")
    assert text.endswith(" {ok}")
    url = text.split(": ", 1)[1].split(" ")[0]
    token = url.rsplit("/", 1)[1]
    [stored] = connection.execute(select(CustomerLink.token_hash, CustomerLink.customer_id)).all()
    assert stored.token_hash == secret_hash(token) and token not in stored.token_hash
    assert str(stored.customer_id) == customer["id"]
    [listed] = body(tenant.get(f"{API}/customers/{customer['id']}/links"))["items"]
    assert listed["state"] == "active"
    assert (_at(listed["expires_at"]) - _at(listed["created_at"])).days == 90
    page = client.get(url.removeprefix("https://chain.example"), headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Hello, Chen Jing" in page.text


def test_without_a_public_url_the_welcome_carries_the_links_path(bound_app, tenant, shop):
    kept = bound_app.extensions["chain_collab.config"]
    bound_app.extensions["chain_collab.config"] = replace(kept, public_url=None)
    try:
        _, text = _welcome_with_link(tenant, shop, "Your page: {customer_link}")
    finally:
        bound_app.extensions["chain_collab.config"] = kept
    assert text.startswith("Your page: /c/") and len(text) > len("Your page: /c/") + 30


def test_a_welcome_without_the_placeholder_makes_no_link(tenant, shop, connection):
    _welcome_with_link(tenant, shop, "Welcome {customer_name}.")
    assert connection.scalar(select(CustomerLink.id)) is None


def test_only_the_welcome_may_carry_the_link_and_unknown_placeholders_are_refused(tenant):
    [default] = body(tenant.get(f"{API}/group-templates"))["items"]
    path = f"{API}/group-templates/{default['id']}"
    assert "name_pattern" in bad_fields(
        tenant.patch(path, json={"name_pattern": "{customer_link}"})
    )
    assert "welcome_message" in bad_fields(
        tenant.patch(path, json={"welcome_message": "Hi {customer_url}"})
    )
    assert "welcome_message" in bad_fields(
        tenant.patch(path, json={"welcome_message": "Hi {customer_link!r}"})
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
