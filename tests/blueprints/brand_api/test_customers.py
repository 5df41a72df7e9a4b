"""Customers: unique per chain by mobile (in any format), served by a member of their dealer."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)
from tests.blueprints.brand_api.delivery_world import add_member, add_organisation, open_shop


def customers(tenant, **query) -> list[dict]:
    return body(tenant.get(f"{API}/customers", query_string={"limit": 500, **query}))["items"]


def test_a_customer_is_added_and_read_back(tenant, shop):
    customer = body(
        shop.add_customer(
            " Chen Jing ", "139 1234 5678", tags=["vip", " vip ", "renovation"], notes="2F"
        ),
        201,
    )
    assert customer["name"] == "Chen Jing"
    assert customer["mobile"] == "+8613912345678"
    assert (customer["dealer_id"], customer["owner_member_id"]) == (shop.dealer_id, shop.owner_id)
    assert customer["tags"] == ["vip", "renovation"]
    assert customer["notes"] == "2F"
    assert customer["group_id"] is None  # no order yet, so no delivery group
    assert body(tenant.get(f"{API}/customers/{customer['id']}")) == customer
    assert customers(tenant) == [customer]


def test_the_same_mobile_in_another_format_finds_the_customer_and_stores_nothing(
    tenant, shop, connection
):
    first = body(shop.add_customer("Chen Jing", "139 1234 5678"), 201)
    before = database_snapshot(connection)
    for mobile in ("+8613912345678", "+86 139-1234-5678", "008613912345678", "13912345678"):
        again = shop.add_customer(" Chen Jing ", mobile, tags=["new"])
        assert again.status_code == 200, (mobile, again.get_data(True))
        assert again.get_json() == first  # the existing customer, unchanged
    assert database_snapshot(connection) == before
    assert [c["id"] for c in customers(tenant)] == [first["id"]]


def test_a_known_mobile_with_another_dealer_owner_or_name_is_a_conflict(tenant, shop, connection):
    first = body(shop.add_customer("Chen Jing", "139 1234 5678"), 201)
    other = open_shop(tenant, "Xuhui Store")
    colleague = add_member(tenant, shop.dealer_id, "service_specialist", "Zhou Min")
    before = database_snapshot(connection)
    for changes, differs in (
        ({"name": "Someone Else"}, ["name"]),
        ({"owner_member_id": colleague}, ["owner_member_id"]),
        (
            {"dealer_id": other.dealer_id, "owner_member_id": other.owner_id, "name": "Chen"},
            ["dealer_id", "owner_member_id", "name"],
        ),
    ):
        name = changes.pop("name", "Chen Jing")
        response = shop.add_customer(name, "+86 139-1234-5678", **changes)
        error = assert_error(response, 409, "customer_exists")
        assert error["details"] == {"customer_id": first["id"], "differs": differs}
    assert database_snapshot(connection) == before
    assert body(tenant.get(f"{API}/customers/{first['id']}")) == first


def test_the_conflict_of_a_known_mobile_is_in_the_openapi_document(client):
    spec = body(client.get(f"{API}/openapi.json"))
    responses = spec["paths"]["/api/v1/customers"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(responses)
    assert "customer_exists" in responses["409"]["description"]


def test_an_international_mobile_is_stored_in_e164(shop):
    assert shop.customer(mobile="+44 7911 123456")["mobile"] == "+447911123456"


@pytest.mark.parametrize("mobile", ["12345678", "139 1234 567", "call me", "+86 000 0000 0000"])
def test_an_invalid_mobile_is_refused_naming_it(tenant, shop, mobile):
    assert bad_fields(shop.add_customer(mobile=mobile)) == {"mobile"}
    assert customers(tenant) == []


def test_the_owner_must_be_a_member_of_the_customers_dealer(tenant, shop, connection):
    other_dealer = add_organisation(tenant, "dealer", "Xuhui Store")
    colleague_elsewhere = add_member(tenant, other_dealer, "service_specialist")
    before = database_snapshot(connection)
    for owner in (shop.coordinator_id, colleague_elsewhere):
        response = shop.add_customer(owner_member_id=owner)
        error = assert_error(response, 422)
        assert set(error["details"]["fields"]) == {"owner_member_id"}
        assert "dealer" in error["details"]["fields"]["owner_member_id"][0]
    assert database_snapshot(connection) == before


def test_a_dealer_of_another_kind_is_refused(tenant, shop, connection):
    before = database_snapshot(connection)
    for organisation in (shop.factory_id, str(tenant.brand_id)):
        response = shop.add_customer(dealer_id=organisation)
        assert assert_error(response, 422)["details"]["fields"] == {"dealer_id": ["Not a dealer."]}
    assert database_snapshot(connection) == before


def test_a_blank_name_is_refused(tenant, shop):
    assert bad_fields(shop.add_customer(name="   ")) == {"name"}
    assert customers(tenant) == []


def test_changing_the_mobile_to_another_customers_is_refused(tenant, shop, connection):
    chen = shop.customer("Chen Jing", mobile="139 1234 5678")
    wang = shop.customer("Wang Fang", mobile="139 8765 4321")
    before = database_snapshot(connection)
    response = tenant.patch(
        f"{API}/customers/{wang['id']}", json={"mobile": "+86 139 1234 5678", "name": "Renamed"}
    )
    assert bad_fields(response) == {"mobile"}
    assert database_snapshot(connection) == before
    assert body(tenant.get(f"{API}/customers/{wang['id']}")) == wang
    assert body(tenant.get(f"{API}/customers/{chen['id']}")) == chen


def test_a_customer_keeps_their_mobile_written_another_way_and_may_change_it(tenant, shop):
    chen = shop.customer(mobile="139 1234 5678")
    path = f"{API}/customers/{chen['id']}"
    same = body(tenant.patch(path, json={"mobile": "+86 139-1234-5678"}))
    assert same["mobile"] == "+8613912345678"
    moved = body(tenant.patch(path, json={"mobile": "139 0000 1111"}))
    assert moved["mobile"] == "+8613900001111"
    # The old number is free again: it is a new customer now.
    assert shop.add_customer(mobile="13912345678").status_code == 201


def test_patch_changes_what_is_given_and_keeps_the_rest(tenant, shop):
    chen = shop.customer(tags=["vip"], notes="first")
    path = f"{API}/customers/{chen['id']}"
    changed = body(tenant.patch(path, json={"name": " Chen J. ", "tags": ["a", "a", " b "]}))
    assert changed["name"] == "Chen J."
    assert changed["tags"] == ["a", "b"]
    assert (changed["mobile"], changed["notes"]) == (chen["mobile"], "first")
    assert (changed["dealer_id"], changed["owner_member_id"]) == (shop.dealer_id, shop.owner_id)
    assert bad_fields(tenant.patch(path, json={"name": "  "})) == {"name"}
    assert bad_fields(tenant.patch(path, json={"dealer_id": shop.dealer_id})) == {"dealer_id"}
    assert body(tenant.get(path)) == changed


def test_a_customer_has_a_group_id_from_their_first_order(tenant, shop):
    chen = shop.customer()
    order = shop.order(chen["id"], "SO-1")
    assert order["group_id"]
    assert body(tenant.get(f"{API}/customers/{chen['id']}"))["group_id"] == order["group_id"]
    assert customers(tenant)[0]["group_id"] == order["group_id"]


def test_customers_are_listed_newest_first_and_filtered_by_dealer_and_owner(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")
    colleague = add_member(tenant, shop.dealer_id, "service_specialist")
    a = shop.customer("A")
    b = shop.customer("B", owner_member_id=colleague)
    c = other.customer("C")
    assert [x["id"] for x in customers(tenant)] == [c["id"], b["id"], a["id"]]
    assert [x["id"] for x in customers(tenant, dealer_id=shop.dealer_id)] == [b["id"], a["id"]]
    assert [x["id"] for x in customers(tenant, dealer_id=other.dealer_id)] == [c["id"]]
    assert [x["id"] for x in customers(tenant, owner_member_id=shop.owner_id)] == [a["id"]]
    mine = customers(tenant, dealer_id=shop.dealer_id, owner_member_id=colleague)
    assert [x["id"] for x in mine] == [b["id"]]
    assert customers(tenant, dealer_id=shop.factory_id) == []


def test_a_filter_naming_an_unknown_id_is_refused_naming_it(tenant, shop):
    unknown = "01234567-89ab-7def-8123-456789abcdef"
    assert bad_fields(tenant.get(f"{API}/customers", query_string={"dealer_id": unknown})) == {
        "dealer_id"
    }
    query = {"owner_member_id": unknown}
    assert bad_fields(tenant.get(f"{API}/customers", query_string=query)) == {"owner_member_id"}


def test_the_same_mobile_in_another_chain_is_that_chains_own_customer(shop, other_tenant):
    chen = shop.customer(mobile="139 1234 5678")
    theirs = open_shop(other_tenant)
    response = theirs.add_customer("Chen in B", "139 1234 5678")
    assert response.status_code == 201
    assert response.get_json()["id"] != chen["id"]
    assert [c["id"] for c in customers(other_tenant)] == [response.get_json()["id"]]
    assert [c["id"] for c in customers(shop.tenant)] == [chen["id"]]
    assert body(shop.tenant.get(f"{API}/customers/{chen['id']}"))["name"] == "Chen Jing"


def test_another_chains_key_sees_none_of_the_customers(shop, other_tenant):
    chen = shop.customer()
    open_shop(other_tenant).customer("Their own")
    listed = customers(other_tenant)
    assert [c["name"] for c in listed] == ["Their own"]
    assert_error(other_tenant.get(f"{API}/customers/{chen['id']}"), 404, "not_found")
    query = {"dealer_id": shop.dealer_id}
    assert bad_fields(other_tenant.get(f"{API}/customers", query_string=query)) == {"dealer_id"}
