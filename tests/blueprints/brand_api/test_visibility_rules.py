from __future__ import annotations

from tests.blueprints.brand_api.chain_world import API, assert_error, bad_fields, body

RULES = f"{API}/visibility-rules"


def test_a_rule_is_created_once_and_then_found(tenant):
    east = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    west = body(tenant.post(f"{API}/directory-groups", json={"path": "West"}), 201)
    pair = {"viewer_group_id": east["id"], "visible_group_id": west["id"]}

    rule = body(tenant.post(RULES, json=pair), 201)
    assert {k: rule[k] for k in pair} == pair
    again = tenant.post(RULES, json=pair)
    assert body(again, 200) == rule
    reverse = {"viewer_group_id": west["id"], "visible_group_id": east["id"]}
    other = body(tenant.post(RULES, json=reverse), 201)
    assert other["id"] != rule["id"]

    assert body(tenant.get(f"{RULES}/{rule['id']}")) == rule
    assert [r["id"] for r in body(tenant.get(RULES))["items"]] == [rule["id"], other["id"]]


def test_a_deleted_rule_is_gone(tenant):
    east = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    rule = body(
        tenant.post(RULES, json={"viewer_group_id": east["id"], "visible_group_id": east["id"]}),
        201,
    )
    assert tenant.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert_error(tenant.get(f"{RULES}/{rule['id']}"), 404, "not_found")
    assert_error(tenant.delete(f"{RULES}/{rule['id']}"), 404)
    assert body(tenant.get(RULES))["items"] == []


def test_a_rule_between_unknown_groups_is_refused(tenant):
    east = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    unknown = "00000000-0000-7000-8000-000000000000"
    response = tenant.post(RULES, json={"viewer_group_id": unknown, "visible_group_id": east["id"]})
    assert bad_fields(response) == {"viewer_group_id"}
    response = tenant.post(RULES, json={"viewer_group_id": east["id"], "visible_group_id": unknown})
    assert bad_fields(response) == {"visible_group_id"}
    assert body(tenant.get(RULES))["items"] == []
