"""A key belongs to one brand's chain and sees nothing else. The checks walk the URL map, so an
endpoint added later is checked too, or the tests fail saying what they need to know about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    AUTOMATIC_METHODS,
    ChainWorld,
    api_operations,
    api_rules,
    assert_error,
    body,
    database_snapshot,
    id_fields,
    new_uuid,
    paths_for,
)

# A valid body for each operation that takes one and names a resource in its path: with it,
# a request gets past validation to the lookup, which must then fail for another chain's id.
PROBE_BODIES: dict[tuple[str, str], dict | None] = {
    ("PATCH", f"{API}/organisations/<uuid:organisation_id>"): {"name": "Taken over"},
    ("POST", f"{API}/organisations/<uuid:organisation_id>/secret:rotate"): None,
    ("POST", f"{API}/organisations/<uuid:organisation_id>/members"): {
        "name": "Intruder",
        "role": "sales",
        "email": "intruder@rival.example",
    },
    ("PATCH", f"{API}/members/<uuid:member_id>"): {"name": "Taken over", "mobile": None},
    ("PATCH", f"{API}/directory-groups/<uuid:group_id>"): {"name": "Taken over"},
}
BODYLESS = {"GET", "HEAD", "DELETE"}


def probe_kwargs(rule, method: str) -> dict:
    if method in BODYLESS:
        return {}
    key = (method, rule.rule)
    assert key in PROBE_BODIES, (
        f"No probe body for {method} {rule.rule}: add a valid one to PROBE_BODIES, so that a "
        "request with another chain's id reaches the lookup instead of failing validation."
    )
    return {} if PROBE_BODIES[key] is None else {"json": PROBE_BODIES[key]}


def test_every_endpoint_answers_404_to_another_chains_ids_and_changes_nothing(
    app, acme, rival, connection
):
    before = database_snapshot(connection)
    probed = set()
    for rule in api_rules(app):
        if not rule.arguments:
            continue
        for method in sorted(rule.methods - AUTOMATIC_METHODS):
            for path in paths_for(rule, acme.ids):
                response = rival.tenant.open(method, path, **probe_kwargs(rule, method))
                where = f"{method} {path} with chain B's key and chain A's id"
                assert response.status_code == 404, (where, response.get_data(True))
                if method != "HEAD":
                    assert_error(response, 404, "not_found")
                assert database_snapshot(connection) == before, f"{where} changed data"
                probed.add((method, rule.rule))
    assert ("DELETE", f"{API}/organisations/<uuid:organisation_id>") in probed
    assert ("PATCH", f"{API}/members/<uuid:member_id>") in probed


def test_the_same_requests_succeed_for_the_owning_chain(app, acme):
    """The probes above are meaningful: with A's own key, the same reads find A's resources."""
    for rule in api_rules(app):
        if not rule.arguments or "GET" not in rule.methods:
            continue
        for path in paths_for(rule, acme.ids):
            assert acme.tenant.get(path).status_code == 200, path


def test_no_read_with_one_chains_key_shows_another_chains_data(app, acme, rival):
    foreign = acme.all_ids() | set(acme.secrets) | set(acme.emails)
    extra_queries = {
        f"{API}/directory": [{"viewer_member_id": rival.brand_member_id}],
        f"{API}/organisations": [{"group_id": rival.east_id}, {"kind": "dealer"}],
    }
    seen_text = ""
    for rule in api_rules(app):
        if "GET" not in rule.methods:
            continue
        for path in paths_for(rule, rival.ids):
            for query in [{}, {"limit": 500}, *extra_queries.get(rule.rule, [])]:
                response = rival.tenant.get(path, query_string=query)
                assert response.status_code == 200, (path, query, response.get_data(True))
                text = response.get_data(as_text=True)
                leaked = sorted(value for value in foreign if value in text)
                assert not leaked, f"GET {path}?{query} with chain B's key shows A's {leaked}"
                seen_text += text
    # The reads were not simply empty: B's own resources are all there.
    assert {value for value in rival.all_ids() if value not in seen_text} == set()


@dataclass(frozen=True)
class Reference:
    """A request by chain B that names something by id in its body or query string."""

    method: str
    rule: str
    field: str
    foreign: Callable[[ChainWorld], str]  # which of chain A's ids to put there
    request: Callable[[ChainWorld, str], tuple[str, dict]]  # (path, kwargs) for chain B

    def __str__(self) -> str:
        return f"{self.method} {self.rule} {self.field}"


REFERENCES = [
    Reference(
        "POST",
        f"{API}/organisations",
        "group_ids",
        lambda a: a.east_id,
        lambda b, ref: (
            f"{API}/organisations",
            {"json": {"kind": "dealer", "name": "Stolen", "group_ids": [b.east_id, ref]}},
        ),
    ),
    Reference(
        "PATCH",
        f"{API}/organisations/<uuid:organisation_id>",
        "group_ids",
        lambda a: a.west_id,
        lambda b, ref: (f"{API}/organisations/{b.dealer_id}", {"json": {"group_ids": [ref]}}),
    ),
    Reference(
        "GET",
        f"{API}/organisations",
        "group_id",
        lambda a: a.east_id,
        lambda b, ref: (f"{API}/organisations", {"query_string": {"group_id": ref}}),
    ),
    Reference(
        "POST",
        f"{API}/invitations",
        "group_ids",
        lambda a: a.east_id,
        lambda b, ref: (f"{API}/invitations", {"json": {"kind": "dealer", "group_ids": [ref]}}),
    ),
    Reference(
        "GET",
        f"{API}/directory-groups",
        "parent_id",
        lambda a: a.east_id,
        lambda b, ref: (f"{API}/directory-groups", {"query_string": {"parent_id": ref}}),
    ),
    Reference(
        "POST",
        f"{API}/directory-groups",
        "parent_id",
        lambda a: a.east_id,
        lambda b, ref: (f"{API}/directory-groups", {"json": {"name": "Inside", "parent_id": ref}}),
    ),
    Reference(
        "PATCH",
        f"{API}/directory-groups/<uuid:group_id>",
        "parent_id",
        lambda a: a.east_id,
        lambda b, ref: (f"{API}/directory-groups/{b.west_id}", {"json": {"parent_id": ref}}),
    ),
    Reference(
        "POST",
        f"{API}/visibility-rules",
        "viewer_group_id",
        lambda a: a.east_id,
        lambda b, ref: (
            f"{API}/visibility-rules",
            {"json": {"viewer_group_id": ref, "visible_group_id": b.west_id}},
        ),
    ),
    Reference(
        "POST",
        f"{API}/visibility-rules",
        "visible_group_id",
        lambda a: a.west_id,
        lambda b, ref: (
            f"{API}/visibility-rules",
            {"json": {"viewer_group_id": b.west_id, "visible_group_id": ref}},
        ),
    ),
    Reference(
        "GET",
        f"{API}/directory",
        "viewer_member_id",
        lambda a: a.dealer_member_id,
        lambda b, ref: (f"{API}/directory", {"query_string": {"viewer_member_id": ref}}),
    ),
    Reference(
        "GET",
        f"{API}/directory",
        "organisation_id",
        lambda a: a.dealer_id,
        lambda b, ref: (f"{API}/directory", {"query_string": {"organisation_id": ref}}),
    ),
]
# Collection writes that name nothing by id; test_writes_reusing_another_chains_names_... covers
# them: matching by custom_id or path must stay inside the chain.
NAME_MATCHING_WRITES = {("POST", f"{API}/imports"), ("POST", f"{API}/directory-groups")}


def test_every_id_in_a_body_or_query_string_has_a_cross_chain_check(app):
    checked = {(ref.method, ref.rule, ref.field) for ref in REFERENCES}
    unchecked = [
        f"{method} {rule.rule} {location}:{name}"
        for rule, method in api_operations(app)
        for location, name in id_fields(app, rule, method)
        if (method, rule.rule, name) not in checked
    ]
    assert not unchecked, f"add a Reference to REFERENCES for: {unchecked}"


def test_every_collection_write_has_a_cross_chain_check(app):
    checked = {(ref.method, ref.rule) for ref in REFERENCES} | NAME_MATCHING_WRITES
    unchecked = [
        f"{method} {rule.rule}"
        for rule, method in api_operations(app)
        if not rule.arguments and method != "GET" and (method, rule.rule) not in checked
    ]
    assert not unchecked, f"no tenant-isolation check covers: {unchecked}"


@pytest.mark.parametrize("reference", REFERENCES, ids=str)
def test_another_chains_id_in_a_body_or_query_is_refused_naming_the_field(
    reference, acme, rival, connection
):
    before = database_snapshot(connection)
    foreign = reference.foreign(acme)
    path, kwargs = reference.request(rival, foreign)
    response = rival.tenant.open(reference.method, path, **kwargs)
    assert response.status_code == 422, response.get_data(True)
    assert_error(response, 422)
    assert reference.field in response.get_json()["error"]["details"]["fields"]
    assert database_snapshot(connection) == before

    # B cannot tell A's id from one that never existed: the answer is the same, but for the
    # id itself, which the error may echo back.
    never_existed = new_uuid()
    path, kwargs = reference.request(rival, never_existed)
    unknown = rival.tenant.open(reference.method, path, **kwargs)
    assert unknown.status_code == 422
    assert unknown.get_data(True).replace(never_existed, "<id>") == response.get_data(True).replace(
        foreign, "<id>"
    )
    assert database_snapshot(connection) == before


def chain_view(world: ChainWorld) -> dict:
    """Everything the chain's own key can read, for comparing before and after."""
    t = world.tenant
    view = {}
    for name in ("organisations", "directory-groups", "visibility-rules", "invitations"):
        view[name] = body(t.get(f"{API}/{name}", query_string={"limit": 500}))
    view["imports"] = body(t.get(f"{API}/imports", query_string={"limit": 500}))
    view["directory"] = body(t.get(f"{API}/directory", query_string={"limit": 500}))
    for organisation in view["organisations"]["items"]:
        path = f"{API}/organisations/{organisation['id']}/members"
        view[path] = body(t.get(path, query_string={"limit": 500}))
    return view


def test_writes_reusing_another_chains_names_create_the_writers_own_resources(acme, other_tenant):
    a_before = chain_view(acme)
    # Same custom_ids, group paths and mobiles as chain A has.
    imported = body(
        other_tenant.post(
            f"{API}/imports",
            json={
                "organisations": [
                    {
                        "custom_id": "D-001",
                        "kind": "dealer",
                        "name": "Renamed?",
                        "groups": ["East/Shanghai", "West"],
                        "members": [{"name": "Li", "role": "sales", "mobile": "13812345678"}],
                    },
                    {"custom_id": "F-001", "kind": "dealer", "name": "Not a factory here"},
                ]
            },
        ),
        201,
    )
    assert [row["status"] for row in imported["results"]] == ["created", "created"]
    assert imported["errors"] == []
    b_ids = {row["organisation_id"] for row in imported["results"]}
    assert not b_ids & acme.all_ids()

    group = other_tenant.post(f"{API}/directory-groups", json={"path": "East/Shanghai"})
    assert group.status_code == 200  # B's own East/Shanghai, made by the import
    assert group.get_json()["id"] not in acme.all_ids()
    new = body(other_tenant.post(f"{API}/directory-groups", json={"path": "West/Chengdu"}), 201)
    assert new["parent_id"] not in acme.all_ids()

    assert chain_view(acme) == a_before
