"""POST/GET /api/v1/broadcasts: one message to many delivery groups, within the monthly quota."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
    new_uuid,
)
from tests.blueprints.brand_api.delivery_world import add_organisation, open_shop

SHAPE = {"id", "text", "audience", "sent", "skipped_by_quota", "created_at"}


def broadcast(tenant, **payload):
    return tenant.post(f"{API}/broadcasts", json={"text": "Spring sale", **payload})


def with_group(shop, name: str = "Chen Jing", **customer) -> tuple[dict, str]:
    """A customer who has ordered, and their delivery group's id."""
    buyer = shop.customer(name, **customer)
    return buyer, shop.order(buyer["id"], f"SO-{buyer['id']}")["group_id"]


def broadcasts_in(shop, group_id: str) -> list[dict]:
    return [m for m in shop.messages(group_id) if m["kind"] == "broadcast"]


def test_a_broadcast_by_tag_is_posted_to_the_groups_and_answers_with_its_counts(tenant, shop):
    _, vip_group = with_group(shop, "Chen Jing", tags=["vip"])
    _, other_group = with_group(shop, "Wang Lei", tags=["renovation"])

    sent = body(broadcast(tenant, text="  Spring sale: 20% off  ", tag="vip"), 201)

    assert set(sent) == SHAPE
    assert sent["text"] == "Spring sale: 20% off"
    assert sent["audience"] == {"tag": "vip"}
    assert (sent["sent"], sent["skipped_by_quota"]) == (1, 0)
    [message] = broadcasts_in(shop, vip_group)
    assert message["sender"] == "system"
    assert message["text"] == "Spring sale: 20% off"
    assert message["payload"] == {"broadcast_id": sent["id"]}
    assert broadcasts_in(shop, other_group) == []
    assert body(tenant.get(f"{API}/broadcasts/{sent['id']}")) == sent


def test_a_broadcast_by_dealer_reaches_that_dealers_customers(tenant, shop):
    _, ours = with_group(shop)
    other_shop = open_shop(tenant, "Xuhui Store")
    _, theirs = with_group(other_shop, "Wang Lei")

    sent = body(broadcast(tenant, dealer_id=other_shop.dealer_id), 201)

    assert sent["audience"] == {"dealer_id": other_shop.dealer_id}
    assert sent["sent"] == 1
    assert broadcasts_in(shop, ours) == []
    assert len(broadcasts_in(other_shop, theirs)) == 1


def test_a_broadcast_to_all_skips_customers_without_a_group(tenant, shop):
    with_group(shop)
    with_group(open_shop(tenant, "Xuhui Store"), "Wang Lei")
    shop.customer("Zhao Min")  # no order, so no group: not counted

    sent = body(broadcast(tenant, all=True, tag=None, dealer_id=None), 201)

    assert sent["audience"] == {"all": True}
    assert (sent["sent"], sent["skipped_by_quota"]) == (2, 0)


def test_customers_over_the_chains_quota_are_skipped_and_counted(tenant, shop):
    body(tenant.patch(f"{API}/chain", json={"broadcast_quota": 1}))
    _, group = with_group(shop, tags=["vip"])
    with_group(shop, "Wang Lei")

    first = body(broadcast(tenant, tag="vip"), 201)
    second = body(broadcast(tenant, all=True), 201)

    assert (first["sent"], first["skipped_by_quota"]) == (1, 0)
    assert (second["sent"], second["skipped_by_quota"]) == (1, 1)
    assert len(broadcasts_in(shop, group)) == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"text"}),
        ({"text": "Hi"}, {"audience"}),
        ({"text": "Hi", "all": False}, {"audience"}),
        ({"text": "Hi", "tag": "vip", "all": True}, {"tag", "all"}),
        ({"text": "Hi", "tag": "vip", "dealer_id": "{dealer_id}"}, {"tag", "dealer_id"}),
        ({"text": "   ", "all": True}, {"text"}),
        ({"text": "x" * 4001, "all": True}, {"text"}),
        ({"text": "Nul\x00", "all": True}, {"text"}),
        ({"text": "Hi", "tag": "  "}, {"tag"}),
        ({"text": "Hi", "tag": "x" * 51}, {"tag"}),
        ({"text": "Hi", "dealer_id": "x"}, {"dealer_id"}),
        ({"text": "Hi", "dealer_id": "{factory_id}"}, {"dealer_id"}),
        ({"text": "Hi", "dealer_id": new_uuid()}, {"dealer_id"}),
        ({"text": "Hi", "all": "maybe"}, {"all"}),
        ({"text": "Hi", "all": True, "colour": "red"}, {"colour"}),
    ],
)
def test_bad_bodies_are_refused_with_422_naming_the_fields(
    tenant, shop, connection, payload, fields
):
    with_group(shop, tags=["vip"])
    ids = {"dealer_id": shop.dealer_id, "factory_id": shop.factory_id}
    payload = {
        name: value.format(**ids) if name == "dealer_id" else value
        for name, value in payload.items()
    }
    before = database_snapshot(connection)

    assert bad_fields(tenant.post(f"{API}/broadcasts", json=payload)) == fields
    assert database_snapshot(connection) == before


def test_another_chains_dealer_is_refused_as_if_it_never_existed(
    tenant, other_tenant, shop, connection
):
    theirs = open_shop(other_tenant, "Rival Store")
    with_group(theirs)
    before = database_snapshot(connection)

    foreign = broadcast(tenant, dealer_id=theirs.dealer_id)
    never_existed = new_uuid()
    unknown = broadcast(tenant, dealer_id=never_existed)

    assert bad_fields(foreign) == {"dealer_id"}
    assert foreign.get_json() == unknown.get_json()
    assert database_snapshot(connection) == before


def test_another_chains_broadcast_is_not_found_nor_listed(tenant, other_tenant):
    theirs = body(broadcast(other_tenant, all=True), 201)

    assert_error(tenant.get(f"{API}/broadcasts/{theirs['id']}"), 404, "not_found")
    assert_error(tenant.get(f"{API}/broadcasts/{new_uuid()}"), 404, "not_found")
    assert body(tenant.get(f"{API}/broadcasts"))["items"] == []
    assert [b["id"] for b in body(other_tenant.get(f"{API}/broadcasts"))["items"]] == [theirs["id"]]


def test_broadcasts_are_listed_newest_first_a_page_at_a_time(tenant, shop):
    with_group(shop, tags=["vip"])
    made = [body(broadcast(tenant, text=f"News {n}", all=True), 201)["id"] for n in range(5)]

    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = body(tenant.get(f"{API}/broadcasts", query_string=query))
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == made[::-1]
    everything = body(tenant.get(f"{API}/broadcasts"))
    assert [item["id"] for item in everything["items"]] == seen
    assert everything["next_cursor"] is None
    assert bad_fields(tenant.get(f"{API}/broadcasts", query_string={"cursor": "x"})) == {"cursor"}
    assert bad_fields(tenant.get(f"{API}/broadcasts", query_string={"limit": 0})) == {"limit"}


def test_broadcasts_need_an_api_key(client):
    assert_error(client.post(f"{API}/broadcasts", json={"text": "Hi", "all": True}), 401)
    assert_error(client.get(f"{API}/broadcasts"), 401)


def test_a_dealer_added_by_the_api_is_a_valid_audience_before_it_has_customers(tenant):
    dealer_id = add_organisation(tenant, "dealer", "Empty Store")

    sent = body(broadcast(tenant, dealer_id=dealer_id), 201)

    assert (sent["sent"], sent["skipped_by_quota"]) == (0, 0)
