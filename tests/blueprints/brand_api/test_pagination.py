"""Every list pages by cursor: each item exactly once, in the list's order, at any page size."""

from __future__ import annotations

import base64

import pytest

from blueprints.brand_api.schemas import PageArgs
from tests.blueprints.brand_api.chain_world import (
    API,
    LOOPBACK_URL,
    api_operations,
    argument_schemas,
    bad_fields,
    body,
    owe,
)
from tests.blueprints.brand_api.delivery_world import open_shop


def _dealer(tenant, name="Store") -> str:
    return body(tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": name}), 201)[
        "id"
    ]


def seed_organisations(tenant) -> str:
    for n in range(5):
        _dealer(tenant, f"Store {n}")
    return f"{API}/organisations"


def seed_members(tenant) -> str:
    dealer = _dealer(tenant)
    for n in range(5):
        member = {"name": f"Member {n}", "role": "sales"}
        body(tenant.post(f"{API}/organisations/{dealer}/members", json=member), 201)
    return f"{API}/organisations/{dealer}/members"


def seed_invitations(tenant) -> str:
    for _ in range(5):
        body(tenant.post(f"{API}/invitations", json={"kind": "dealer"}), 201)
    return f"{API}/invitations"


def seed_imports(tenant) -> str:
    for n in range(5):
        row = {"custom_id": f"D-{n}", "kind": "dealer", "name": f"Store {n}"}
        body(tenant.post(f"{API}/imports", json={"organisations": [row]}), 201)
    return f"{API}/imports"


def seed_directory_groups(tenant) -> str:
    body(tenant.post(f"{API}/directory-groups", json={"path": "A/B/C/D/E"}), 201)
    return f"{API}/directory-groups"


def seed_visibility_rules(tenant) -> str:
    ids = [
        body(tenant.post(f"{API}/directory-groups", json={"path": name}), 201)["id"]
        for name in "ABC"
    ]
    for viewer, visible in ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0)):
        rule = {"viewer_group_id": ids[viewer], "visible_group_id": ids[visible]}
        body(tenant.post(f"{API}/visibility-rules", json=rule), 201)
    return f"{API}/visibility-rules"


def seed_directory(tenant) -> str:
    for n in range(5):
        dealer = _dealer(tenant, f"Store {n}")
        for m in range(2):
            member = {"name": f"Member {n}.{m}", "role": "sales"}
            body(tenant.post(f"{API}/organisations/{dealer}/members", json=member), 201)
    return f"{API}/directory"


def seed_customers(tenant) -> str:
    shop = open_shop(tenant)
    for n in range(5):
        shop.customer(f"Customer {n}")
    return f"{API}/customers"


def seed_orders(tenant) -> str:
    shop = open_shop(tenant)
    customer = shop.customer()["id"]
    for n in range(5):
        shop.order(customer, f"SO-{n}")
    return f"{API}/orders"


def seed_groups(tenant) -> str:
    shop = open_shop(tenant)
    for n in range(5):
        shop.order(shop.customer(f"Customer {n}")["id"], f"SO-{n}")
    return f"{API}/groups"


def seed_group_templates(tenant) -> str:
    for n in range(5):
        group = body(tenant.post(f"{API}/directory-groups", json={"path": f"Region {n}"}), 201)
        template = {"directory_group_id": group["id"], "name": f"Region {n}"}
        body(tenant.post(f"{API}/group-templates", json=template), 201)
    return f"{API}/group-templates"


def seed_messages(tenant) -> str:
    shop = open_shop(tenant)
    group = shop.order(shop.customer()["id"], "SO-1")["group_id"]
    for n in range(5):
        body(shop.post_message(group, f"Question {n}"), 201)
    return f"{API}/groups/{group}/messages"


def seed_deliveries(tenant) -> str:
    shop = open_shop(tenant)
    group = shop.order(shop.customer()["id"], "SO-1")["group_id"]
    for n in range(5):
        body(shop.post_message(group, f"Question {n}"), 201)
    hook = {"type": "webhook", "url": LOOPBACK_URL}
    channel = body(tenant.post(f"{API}/groups/{group}/channels", json=hook), 201)["id"]
    owe(tenant, channel, [message["id"] for message in shop.messages(group)])
    return f"{API}/channels/{channel}/deliveries"


def seed_broadcasts(tenant) -> str:
    for n in range(5):
        body(tenant.post(f"{API}/broadcasts", json={"text": f"News {n}", "all": True}), 201)
    return f"{API}/broadcasts"


SEEDS = {
    f"{API}/organisations": seed_organisations,
    f"{API}/organisations/<uuid:organisation_id>/members": seed_members,
    f"{API}/invitations": seed_invitations,
    f"{API}/imports": seed_imports,
    f"{API}/directory-groups": seed_directory_groups,
    f"{API}/visibility-rules": seed_visibility_rules,
    f"{API}/directory": seed_directory,
    f"{API}/customers": seed_customers,
    f"{API}/orders": seed_orders,
    f"{API}/groups": seed_groups,
    f"{API}/group-templates": seed_group_templates,
    f"{API}/groups/<uuid:group_id>/messages": seed_messages,
    f"{API}/broadcasts": seed_broadcasts,
    f"{API}/channels/<uuid:channel_id>/deliveries": seed_deliveries,
}


def list_rules(app) -> list[str]:
    """Every GET that takes a cursor."""
    return [
        rule.rule
        for rule, method in api_operations(app)
        if method == "GET"
        and any(issubclass(schema, PageArgs) for _, schema in argument_schemas(app, rule, method))
    ]


def test_every_list_is_checked_here(app):
    unchecked = [rule for rule in list_rules(app) if rule not in SEEDS]
    assert not unchecked, f"add a seed to SEEDS for {unchecked}"


def pages(tenant, path, limit) -> list[list[str]]:
    found, cursor = [], None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = body(tenant.get(path, query_string=query))
        assert len(page["items"]) <= limit
        found.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 100, "the cursor never ends"


@pytest.mark.parametrize("rule", SEEDS)
def test_limit_2_pages_through_every_item_exactly_once(tenant, rule):
    path = SEEDS[rule](tenant)
    everything = [
        item["id"] for item in body(tenant.get(path, query_string={"limit": 500}))["items"]
    ]
    assert len(everything) >= 5
    by_two = pages(tenant, path, 2)
    assert len(by_two) >= 3
    assert all(len(page) == 2 for page in by_two[:-1])
    assert [item for page in by_two for item in page] == everything
    assert len(set(everything)) == len(everything)
    assert body(tenant.get(path, query_string={"limit": 500}))["next_cursor"] is None
    assert len(body(tenant.get(path))["items"]) == len(everything)  # the default page is 50


@pytest.mark.parametrize("rule", SEEDS)
@pytest.mark.parametrize(
    "cursor", ["garbage", "!!!!", "AAAA", base64.urlsafe_b64encode(b"x" * 17).decode(), "é"]
)
def test_a_cursor_we_did_not_issue_is_refused_naming_cursor(tenant, rule, cursor):
    path = SEEDS[rule](tenant)
    assert bad_fields(tenant.get(path, query_string={"cursor": cursor})) == {"cursor"}


def test_an_item_added_while_paging_appears_once_at_the_end(tenant):
    path = seed_organisations(tenant)
    first = body(tenant.get(path, query_string={"limit": 2}))
    late = _dealer(tenant, "Late")
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = body(tenant.get(path, query_string={"limit": 2, "cursor": cursor}))
        rest += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    seen = [item["id"] for item in first["items"]] + rest
    assert seen[-1] == late
    assert len(seen) == len(set(seen)) == 7  # the brand, five stores, the late one
