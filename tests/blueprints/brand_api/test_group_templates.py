"""Group templates: a chain's default, and a directory group's own for the dealers placed in it
or below it (the deepest wins); patterns use known placeholders only."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)
from tests.blueprints.brand_api.delivery_world import open_shop


def templates(tenant) -> list[dict]:
    return body(tenant.get(f"{API}/group-templates", query_string={"limit": 500}))["items"]


def directory_group(tenant, path: str) -> str:
    return body(tenant.post(f"{API}/directory-groups", json={"path": path}), (200, 201))["id"]


def add_template(tenant, directory_group_id: str | None, **values):
    payload = {"directory_group_id": directory_group_id, **values}
    return tenant.post(f"{API}/group-templates", json=payload)


def group_of_first_order(shop, customer: str = "Chen Jing") -> dict:
    order = shop.order(shop.customer(customer)["id"], f"SO-{customer}")
    return shop.group(order["group_id"])


def test_a_new_chain_has_a_default_template(tenant):
    [default] = templates(tenant)
    assert default["is_default"] is True
    assert default["directory_group_id"] is None
    assert default["member_roles"] == ["owner", "designer", "installer"]
    assert default["rename_locked"] is True
    assert default["member_cap"] == 500
    assert default["contact_action"] == "warn"
    assert "{customer_name}" in default["name_pattern"]
    assert body(tenant.get(f"{API}/group-templates/{default['id']}")) == default


def test_the_default_template_names_and_peoples_a_dealers_group(tenant, shop):
    group = group_of_first_order(shop)
    [default] = templates(tenant)
    assert group["template_id"] == default["id"]
    assert group["name"] == "Chen Jing·Pudong Store"
    assert group["rename_locked"] is True and group["member_cap"] == 500


def test_posting_without_a_directory_group_changes_the_default(tenant):
    [default] = templates(tenant)
    changed = body(
        add_template(tenant, None, name="House", name_pattern="{brand_name}: {customer_name}"), 201
    )
    assert changed["id"] == default["id"]
    assert changed["is_default"] is True
    assert changed["name_pattern"] == "{brand_name}: {customer_name}"
    assert [t["id"] for t in templates(tenant)] == [default["id"]]


def test_a_directory_groups_template_applies_to_a_dealer_placed_below_it(tenant):
    east = directory_group(tenant, "East")
    template = body(
        add_template(
            tenant,
            east,
            name="East",
            name_pattern="{customer_name}·{dealer_name} delivery",
            welcome_message="Hello {customer_name}, {owner_name} here.",
            member_roles=["owner"],
            rename_locked=False,
            member_cap=50,
        ),
        201,
    )
    assert template["is_default"] is False
    assert template["directory_group_id"] == east
    shop = open_shop(tenant, "Pudong Store", [directory_group(tenant, "East/Shanghai/Pudong")])
    group = group_of_first_order(shop)
    assert group["template_id"] == template["id"]
    assert group["name"] == "Chen Jing·Pudong Store delivery"
    assert (group["rename_locked"], group["member_cap"]) == (False, 50)
    assert [s["role"] for s in group["seats"]] == ["customer", "owner"]  # no designer: roles
    assert shop.messages(group["id"])[0]["text"] == "Hello Chen Jing, Li Na here."


def test_the_deepest_directory_groups_template_wins(tenant):
    east = directory_group(tenant, "East")
    shanghai = directory_group(tenant, "East/Shanghai")
    by_east = body(
        add_template(tenant, east, name="East", name_pattern="East {customer_name}"), 201
    )
    by_shanghai = body(
        add_template(tenant, shanghai, name="Shanghai", name_pattern="SH {customer_name}"), 201
    )
    pudong = open_shop(tenant, "Pudong Store", [directory_group(tenant, "East/Shanghai/Pudong")])
    hangzhou = open_shop(tenant, "Hangzhou Store", [directory_group(tenant, "East/Hangzhou")])
    # Placed in both East and East/Shanghai: the deeper one.
    both = open_shop(tenant, "Jingan Store", [east, shanghai])
    west = open_shop(tenant, "Chengdu Store", [directory_group(tenant, "West/Chengdu")])
    loose = open_shop(tenant, "Loose Store")
    [default] = [t for t in templates(tenant) if t["is_default"]]
    expected = [
        (pudong, "Chen", by_shanghai["id"], "SH Chen"),
        (hangzhou, "Wang", by_east["id"], "East Wang"),
        (both, "Zhou", by_shanghai["id"], "SH Zhou"),
        (west, "Sun", default["id"], "Sun·Chengdu Store"),
        (loose, "Qian", default["id"], "Qian·Loose Store"),
    ]
    for shop, customer, template_id, name in expected:
        group = group_of_first_order(shop, customer)
        assert (group["template_id"], group["name"]) == (template_id, name)


def test_a_second_template_for_one_directory_group_is_a_conflict(tenant, connection):
    east = directory_group(tenant, "East")
    first = body(add_template(tenant, east, name="East"), 201)
    before = database_snapshot(connection)
    error = assert_error(add_template(tenant, east, name="Again"), 409, "conflict")
    assert error["details"]["template_id"] == first["id"]
    assert database_snapshot(connection) == before


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("name_pattern", "{customer_name}·{shop_name}"),
        ("name_pattern", "{0}"),
        ("name_pattern", "{}"),
        ("name_pattern", "{customer_name.upper}"),
        ("name_pattern", "{customer_name[0]}"),
        ("name_pattern", "{customer_name"),
        ("name_pattern", "no placeholder closing }"),
        ("welcome_message", "Hi {customer}"),
        ("welcome_message", "Hi {customer_name"),
    ],
)
def test_an_unknown_placeholder_or_a_broken_pattern_is_refused_naming_the_field(
    tenant, connection, field, pattern
):
    east = directory_group(tenant, "East")
    before = database_snapshot(connection)
    assert bad_fields(add_template(tenant, east, name="East", **{field: pattern})) == {field}
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    assert bad_fields(tenant.patch(path, json={field: pattern})) == {field}
    assert database_snapshot(connection) == before


@pytest.mark.parametrize(
    "pattern",
    ["{customer_name:d}", "{customer_name:>999999999}", "{customer_name!r}", "{brand_name!z}"],
)
@pytest.mark.parametrize("field", ["name_pattern", "welcome_message"])
def test_a_placeholder_with_a_format_spec_or_conversion_is_refused(
    tenant, connection, field, pattern
):
    """A spec would be applied to every group's name or welcome: `:d` fails on text, a huge
    width builds a huge string. Placeholders stand for text as it is."""
    before = database_snapshot(connection)
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    assert bad_fields(tenant.patch(path, json={field: pattern})) == {field}
    assert database_snapshot(connection) == before


def test_a_pattern_may_write_braces_doubled(tenant, shop):
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    body(tenant.patch(path, json={"name_pattern": "{{VIP}} {customer_name}"}))
    assert group_of_first_order(shop)["name"] == "{VIP} Chen Jing"


def test_a_pattern_that_names_nothing_is_refused(tenant):
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    assert bad_fields(tenant.patch(path, json={"name_pattern": "   "})) == {"name_pattern"}


def test_patch_changes_a_template_for_groups_made_afterwards(tenant, shop):
    [default] = templates(tenant)
    earlier = group_of_first_order(shop, "Chen")
    path = f"{API}/group-templates/{default['id']}"
    changed = body(
        tenant.patch(
            path,
            json={
                "name_pattern": "{owner_name} / {customer_name}",
                "welcome_message": "Welcome to {brand_name}, {customer_name}.",
                "member_roles": ["owner", "installer", "installer"],
                "rename_locked": False,
                "member_cap": 12,
            },
        )
    )
    assert changed["member_roles"] == ["owner", "installer"]
    assert changed["contact_action"] == default["contact_action"]  # what was not given stays
    assert body(tenant.get(path)) == changed
    later = group_of_first_order(shop, "Wang")
    assert later["name"] == "Li Na / Wang"
    assert (later["rename_locked"], later["member_cap"]) == (False, 12)
    assert [s["member_id"] for s in later["seats"]] == [None, shop.owner_id, shop.installer_id]
    assert shop.messages(later["id"])[0]["text"] == "Welcome to Acme Home, Wang."
    assert shop.group(earlier["id"]) == earlier  # a group already made keeps what it had


def test_patch_refuses_unknown_roles_and_a_cap_over_500(tenant, connection):
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    before = database_snapshot(connection)
    assert bad_fields(tenant.patch(path, json={"member_roles": ["boss"]})) == {"member_roles[0]"}
    assert bad_fields(tenant.patch(path, json={"member_cap": 501})) == {"member_cap"}
    assert bad_fields(tenant.patch(path, json={"member_cap": 1})) == {"member_cap"}
    rules = {"blocked_words": [{"word": "x", "action": "delete"}]}
    assert bad_fields(tenant.patch(path, json=rules)) == {"blocked_words[0].action"}
    assert bad_fields(tenant.patch(path, json={"contact_action": "shout"})) == {"contact_action"}
    assert database_snapshot(connection) == before


def test_another_chains_key_sees_none_of_the_templates(tenant, other_tenant):
    east = directory_group(tenant, "East")
    mine = body(add_template(tenant, east, name="East"), 201)
    theirs = templates(other_tenant)
    assert [t["is_default"] for t in theirs] == [True]
    assert not {t["id"] for t in theirs} & {t["id"] for t in templates(tenant)}
    for template in templates(tenant):
        path = f"{API}/group-templates/{template['id']}"
        assert_error(other_tenant.get(path), 404, "not_found")
        assert_error(other_tenant.patch(path, json={"name": "Mine"}), 404, "not_found")
    assert body(tenant.get(f"{API}/group-templates/{mine['id']}"))["name"] == "East"
    assert bad_fields(add_template(other_tenant, east, name="East")) == {"directory_group_id"}


def test_a_patch_changes_the_moderation_of_groups_made_already_at_once(tenant, shop, connection):
    [default] = templates(tenant)
    path = f"{API}/group-templates/{default['id']}"
    group = group_of_first_order(shop)
    assert len(body(shop.post_message(group["id"], "When do you install?"), 201)["items"]) == 1

    def reply_to(text: str) -> list[str]:
        return [m["text"] for m in body(shop.post_message(group["id"], text), 201)["items"][1:]]

    rules = [{"keyword": "install", "reply": "We will call you today."}]
    body(tenant.patch(path, json={"auto_replies": rules}))
    assert reply_to("When do you install?") == ["We will call you today."]
    rules = [{"keyword": "install", "reply": "Our installer calls within 24 h."}]
    body(tenant.patch(path, json={"auto_replies": rules}))
    assert reply_to("Install on Friday?") == ["Our installer calls within 24 h."]

    words = [{"word": "cheaper elsewhere", "action": "block"}]
    body(tenant.patch(path, json={"blocked_words": words, "contact_action": "block"}))
    before = database_snapshot(connection)
    for text in ("It is cheaper elsewhere", "Call me: 13912345678"):
        assert_error(shop.post_message(group["id"], text), 422, "message_blocked")
    assert database_snapshot(connection) == before
    body(tenant.patch(path, json={"blocked_words": [], "contact_action": "allow"}))
    [posted] = body(shop.post_message(group["id"], "Call me: 13912345678"), 201)["items"]
    assert posted["flagged"] is False


def test_the_api_description_says_when_each_template_setting_applies(client):
    from service.groups.templates import LIVE_SETTINGS, NEW_GROUP_SETTINGS

    spec = body(client.get(f"{API}/openapi.json"))
    settings = spec["components"]["schemas"]["GroupTemplateUpdate"]["properties"]
    for name in LIVE_SETTINGS:
        assert "at once to every group made from this template" in settings[name]["description"]
    for name in NEW_GROUP_SETTINGS:
        assert "groups made from then on" in settings[name]["description"], name
    patch = spec["paths"]["/api/v1/group-templates/{template_id}"]["patch"]
    assert "at once" in patch["description"] and "made from then on" in patch["description"]
