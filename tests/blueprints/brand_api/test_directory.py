"""The shared directory: what one member may see of the chain, with other organisations'
mobiles masked; and the brand's full view."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.blueprints.brand_api.chain_world import API, bad_fields, body


@dataclass
class Chain:
    tenant: object
    groups: dict[str, str]
    members: dict[str, str]  # who → member id

    def directory(self, viewer: str | None = None, **query) -> dict[str, dict]:
        """member id → entry, as `viewer` sees the directory (the brand's view without one)."""
        if viewer is not None:
            query["viewer_member_id"] = self.members[viewer]
        items = body(self.tenant.get(f"{API}/directory", query_string={"limit": 500, **query}))
        return {entry["id"]: entry for entry in items["items"]}

    def who(self, viewer: str | None = None, **query) -> set[str]:
        by_id = {member_id: name for name, member_id in self.members.items()}
        return {by_id[member_id] for member_id in self.directory(viewer, **query)}

    def add_rule(self, viewer_path: str, visible_path: str) -> None:
        rule = {"viewer_group_id": self.groups[viewer_path],
                "visible_group_id": self.groups[visible_path]}  # fmt: skip
        body(self.tenant.post(f"{API}/visibility-rules", json=rule), 201)


@pytest.fixture
def chain(tenant) -> Chain:
    groups = {}
    for path in ("East/Shanghai", "West", "Production"):
        body(tenant.post(f"{API}/directory-groups", json={"path": path}), 201)
    for group in body(tenant.get(f"{API}/directory-groups"))["items"]:
        groups[group["path"]] = group["id"]

    def organisation(kind, name, *paths):
        org = {"kind": kind, "name": name, "group_ids": [groups[path] for path in paths]}
        return body(tenant.post(f"{API}/organisations", json=org), 201)["id"]

    organisations = {
        "brand": str(tenant.brand_id),
        "east dealer": organisation("dealer", "Pudong Store", "East"),
        "shanghai dealer": organisation("dealer", "Jing'an Store", "East/Shanghai"),
        "west dealer": organisation("dealer", "Chengdu Store", "West"),
        "factory": organisation("factory", "Panel Works", "Production"),
    }
    people = {
        "brand admin": ("brand", "13700001111"),
        "east specialist": ("east dealer", "13911112222"),
        "east installer": ("east dealer", "13911113333"),
        "shanghai specialist": ("shanghai dealer", "13611114444"),
        "west specialist": ("west dealer", "13812345678"),
        "factory coordinator": ("factory", "+447911123456"),
    }
    members = {}
    for name, (where, mobile) in people.items():
        member = {"name": name, "role": "sales", "mobile": mobile}
        url = f"{API}/organisations/{organisations[where]}/members"
        members[name] = body(tenant.post(url, json=member), 201)["id"]
    return Chain(tenant, groups, members)


def test_without_a_viewer_the_brand_sees_everyone_whole(chain):
    directory = chain.directory()
    assert set(directory) == set(chain.members.values())
    west = directory[chain.members["west specialist"]]
    assert west["mobile"] == "+8613812345678"
    assert west["organisation"]["name"] == "Chengdu Store"
    assert west["organisation"]["kind"] == "dealer"
    assert directory[chain.members["factory coordinator"]]["mobile"] == "+447911123456"


def test_a_dealer_member_sees_its_own_organisation_and_the_brand_only(chain):
    assert chain.who("east specialist") == {"east specialist", "east installer", "brand admin"}
    assert chain.who("west specialist") == {"west specialist", "brand admin"}
    assert chain.who("factory coordinator") == {"factory coordinator", "brand admin"}


def test_mobiles_outside_the_viewers_organisation_are_masked(chain):
    chain.add_rule("East", "West")
    chain.add_rule("East", "Production")
    seen = chain.directory("east specialist")
    mobile = {name: seen[chain.members[name]]["mobile"] for name in chain.who("east specialist")}
    assert mobile == {
        "east specialist": "+8613911112222",
        "east installer": "+8613911113333",
        "brand admin": "137****1111",
        "west specialist": "138****5678",
        "factory coordinator": "+44 791***3456",
    }


def test_a_brand_member_sees_everyone_with_other_organisations_masked(chain):
    seen = chain.directory("brand admin")
    assert set(seen) == set(chain.members.values())
    assert seen[chain.members["brand admin"]]["mobile"] == "+8613700001111"
    assert seen[chain.members["west specialist"]]["mobile"] == "138****5678"


def test_a_rule_lets_one_group_see_another_one_way(chain):
    chain.add_rule("East", "West")
    assert "west specialist" in chain.who("east specialist")
    assert "factory coordinator" not in chain.who("east specialist")
    assert "east specialist" not in chain.who("west specialist")


def test_a_rule_on_a_group_covers_the_groups_below_it_on_both_sides(chain):
    chain.add_rule("East", "West")
    assert "west specialist" in chain.who("shanghai specialist")
    chain.add_rule("West", "East")
    assert {"east specialist", "shanghai specialist"} <= chain.who("west specialist")
    # A rule on the subgroup does not reach up to its parent.
    chain.add_rule("East/Shanghai", "Production")
    assert "factory coordinator" in chain.who("shanghai specialist")
    assert "factory coordinator" not in chain.who("east specialist")


def test_deleting_the_rule_hides_the_group_again(chain):
    chain.add_rule("East", "West")
    rule_id = body(chain.tenant.get(f"{API}/visibility-rules"))["items"][0]["id"]
    assert chain.tenant.delete(f"{API}/visibility-rules/{rule_id}").status_code == 204
    assert "west specialist" not in chain.who("east specialist")


def test_the_directory_filters_by_organisation(chain):
    east_dealer = body(chain.tenant.get(f"{API}/members/{chain.members['east installer']}"))
    org = east_dealer["organisation_id"]
    assert chain.who(organisation_id=org) == {"east specialist", "east installer"}
    assert chain.who("west specialist", organisation_id=org) == set()


def test_an_unknown_or_removed_viewer_is_refused_naming_viewer_member_id(chain):
    member_id = chain.members["east installer"]
    assert chain.tenant.delete(f"{API}/members/{member_id}").status_code == 204
    response = chain.tenant.get(f"{API}/directory", query_string={"viewer_member_id": member_id})
    assert bad_fields(response) == {"viewer_member_id"}
    assert member_id not in chain.directory()
