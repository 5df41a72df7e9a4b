from __future__ import annotations

from tests.blueprints.brand_api.chain_world import API, assert_error, bad_fields, body

GROUPS = f"{API}/directory-groups"


def all_groups(tenant) -> dict[str, dict]:
    """path → group"""
    items = body(tenant.get(GROUPS, query_string={"limit": 500}))["items"]
    return {group["path"]: group for group in items}


def test_a_path_creates_every_level_once(tenant):
    response = tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"})
    pudong = body(response, 201)
    assert (pudong["name"], pudong["path"]) == ("Pudong", "East/Shanghai/Pudong")
    groups = all_groups(tenant)
    assert list(groups) == ["East", "East/Shanghai", "East/Shanghai/Pudong"]
    assert groups["East"]["parent_id"] is None
    assert groups["East/Shanghai"]["parent_id"] == groups["East"]["id"]
    assert pudong["parent_id"] == groups["East/Shanghai"]["id"]

    again = tenant.post(GROUPS, json={"path": " /East/ Shanghai /Pudong/"})
    assert body(again, 200)["id"] == pudong["id"]
    assert list(all_groups(tenant)) == list(groups)

    # An existing prefix is reused, the missing level is made: that is a creation.
    xuhui = body(tenant.post(GROUPS, json={"path": "East/Shanghai/Xuhui"}), 201)
    assert xuhui["parent_id"] == groups["East/Shanghai"]["id"]


def test_a_name_with_a_parent_creates_one_group(tenant):
    east = body(tenant.post(GROUPS, json={"name": "East"}), 201)
    assert (east["path"], east["parent_id"]) == ("East", None)
    hangzhou = body(tenant.post(GROUPS, json={"name": "Hangzhou", "parent_id": east["id"]}), 201)
    assert (hangzhou["path"], hangzhou["parent_id"]) == ("East/Hangzhou", east["id"])
    assert body(tenant.get(f"{GROUPS}/{hangzhou['id']}")) == hangzhou
    error = assert_error(
        tenant.post(GROUPS, json={"name": "Hangzhou", "parent_id": east["id"]}), 409, "conflict"
    )
    assert error["details"]["path"] == "East/Hangzhou"
    assert bad_fields(tenant.post(GROUPS, json={"name": "A", "path": "A"})) == {"name"}


def test_the_list_filters_children_of_a_parent(tenant):
    body(tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"}), 201)
    body(tenant.post(GROUPS, json={"path": "East/Hangzhou"}), 201)
    groups = all_groups(tenant)
    children = body(tenant.get(GROUPS, query_string={"parent_id": groups["East"]["id"]}))["items"]
    assert [g["path"] for g in children] == ["East/Shanghai", "East/Hangzhou"]


def test_renaming_a_group_rewrites_the_paths_below_it(tenant):
    body(tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"}), 201)
    body(tenant.post(GROUPS, json={"path": "Eastern/Shanghai"}), 201)
    groups = all_groups(tenant)
    ids = {path: group["id"] for path, group in groups.items()}

    renamed = body(tenant.patch(f"{GROUPS}/{ids['East']}", json={"name": "East China"}))
    assert (renamed["name"], renamed["path"]) == ("East China", "East China")

    after = {group["id"]: group["path"] for group in all_groups(tenant).values()}
    assert after == {
        ids["East"]: "East China",
        ids["East/Shanghai"]: "East China/Shanghai",
        ids["East/Shanghai/Pudong"]: "East China/Shanghai/Pudong",
        ids["Eastern"]: "Eastern",
        ids["Eastern/Shanghai"]: "Eastern/Shanghai",
    }
    pudong = body(tenant.get(f"{GROUPS}/{ids['East/Shanghai/Pudong']}"))
    assert pudong["path"] == "East China/Shanghai/Pudong"
    # The path now finds the renamed group, and the old one is free.
    again = tenant.post(GROUPS, json={"path": "East China/Shanghai/Pudong"})
    assert body(again, 200)["id"] == ids["East/Shanghai/Pudong"]
    assert body(tenant.post(GROUPS, json={"path": "East"}), 201)["id"] != ids["East"]


def test_moving_a_group_takes_its_subtree_along(tenant):
    body(tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"}), 201)
    west = body(tenant.post(GROUPS, json={"path": "West"}), 201)
    ids = {path: group["id"] for path, group in all_groups(tenant).items()}

    moved = body(tenant.patch(f"{GROUPS}/{ids['East/Shanghai']}", json={"parent_id": west["id"]}))
    assert (moved["path"], moved["parent_id"]) == ("West/Shanghai", west["id"])
    paths = set(all_groups(tenant))
    assert paths == {"East", "West", "West/Shanghai", "West/Shanghai/Pudong"}

    to_root = body(tenant.patch(f"{GROUPS}/{ids['East/Shanghai']}", json={"parent_id": None}))
    assert (to_root["path"], to_root["parent_id"]) == ("Shanghai", None)
    assert set(all_groups(tenant)) == {"East", "West", "Shanghai", "Shanghai/Pudong"}


def test_a_group_cannot_move_under_itself_or_its_descendants(tenant):
    body(tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"}), 201)
    before = all_groups(tenant)
    ids = {path: group["id"] for path, group in before.items()}
    for target in ("East", "East/Shanghai", "East/Shanghai/Pudong"):
        response = tenant.patch(f"{GROUPS}/{ids['East']}", json={"parent_id": ids[target]})
        assert bad_fields(response) == {"parent_id"}, target
    assert all_groups(tenant) == before


def test_a_rename_onto_an_existing_path_is_a_conflict(tenant):
    body(tenant.post(GROUPS, json={"path": "East/Shanghai"}), 201)
    west = body(tenant.post(GROUPS, json={"path": "West"}), 201)
    before = all_groups(tenant)
    assert_error(tenant.patch(f"{GROUPS}/{west['id']}", json={"name": "East"}), 409, "conflict")
    assert all_groups(tenant) == before


def test_a_group_with_subgroups_cannot_be_deleted(tenant):
    pudong = body(tenant.post(GROUPS, json={"path": "East/Shanghai/Pudong"}), 201)
    groups = all_groups(tenant)
    assert_error(tenant.delete(f"{GROUPS}/{groups['East']['id']}"), 409, "conflict")
    assert_error(tenant.delete(f"{GROUPS}/{groups['East/Shanghai']['id']}"), 409)
    assert all_groups(tenant) == groups

    assert tenant.delete(f"{GROUPS}/{pudong['id']}").status_code == 204
    assert_error(tenant.get(f"{GROUPS}/{pudong['id']}"), 404, "not_found")
    assert tenant.delete(f"{GROUPS}/{groups['East/Shanghai']['id']}").status_code == 204
    assert list(all_groups(tenant)) == ["East"]


def test_deleting_a_group_takes_its_placements_and_rules_with_it(tenant):
    east = body(tenant.post(GROUPS, json={"path": "East"}), 201)
    west = body(tenant.post(GROUPS, json={"path": "West"}), 201)
    dealer = body(
        tenant.post(
            f"{API}/organisations",
            json={"kind": "dealer", "name": "D", "group_ids": [east["id"], west["id"]]},
        ),
        201,
    )
    rule = body(
        tenant.post(
            f"{API}/visibility-rules",
            json={"viewer_group_id": east["id"], "visible_group_id": west["id"]},
        ),
        201,
    )
    assert tenant.delete(f"{GROUPS}/{west['id']}").status_code == 204
    assert body(tenant.get(f"{API}/organisations/{dealer['id']}"))["group_ids"] == [east["id"]]
    assert_error(tenant.get(f"{API}/visibility-rules/{rule['id']}"), 404)
    assert body(tenant.get(f"{API}/visibility-rules"))["items"] == []
