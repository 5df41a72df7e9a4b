"""A key belongs to one brand's chain and sees nothing else. The checks walk the URL map, so an
endpoint added later is checked too, or the tests fail saying what they need to know about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    AUTOMATIC_METHODS,
    CUSTOMER_MOBILE,
    LOOPBACK_URL,
    ChainWorld,
    api_operations,
    api_rules,
    argument_schemas,
    assert_error,
    body,
    database_snapshot,
    id_fields,
    new_uuid,
    paths_for,
)

# A valid body for each operation that takes one and names a resource in its path: with it,
# a request gets past validation to the lookup, which must then fail for another chain's id.
# A callable makes the body from the requesting chain's world (its own ids).
PROBE_BODIES: dict[tuple[str, str], dict | Callable[[ChainWorld], dict] | None] = {
    ("PATCH", f"{API}/organisations/<uuid:organisation_id>"): {"name": "Taken over"},
    ("POST", f"{API}/organisations/<uuid:organisation_id>/secret:rotate"): None,
    ("POST", f"{API}/organisations/<uuid:organisation_id>/members"): {
        "name": "Intruder",
        "role": "sales",
        "email": "intruder@rival.example",
    },
    ("PATCH", f"{API}/members/<uuid:member_id>"): {"name": "Taken over", "mobile": None},
    ("POST", f"{API}/members/<uuid:member_id>/password-link"): {"expires_in_hours": 1},
    ("PATCH", f"{API}/directory-groups/<uuid:group_id>"): {"name": "Taken over"},
    ("PATCH", f"{API}/customers/<uuid:customer_id>"): {"name": "Taken over", "tags": []},
    ("PATCH", f"{API}/group-templates/<uuid:template_id>"): {"name": "Taken over"},
    ("PATCH", f"{API}/groups/<uuid:group_id>"): {"rename_locked": False, "name": "Taken over"},
    ("POST", f"{API}/groups/<uuid:group_id>/members"): lambda b: {"member_id": b.factory_member_id},
    ("POST", f"{API}/groups/<uuid:group_id>/messages"): {"text": "Hi", "sender": "customer"},
    ("POST", f"{API}/work-items/<uuid:work_item_id>/progress"): {"milestone": "completed"},
    ("PATCH", f"{API}/work-items/<uuid:work_item_id>"): {"promised_at": None, "reason": "x"},
    ("POST", f"{API}/groups/<uuid:group_id>/channels"): {"type": "webhook", "url": LOOPBACK_URL},
    ("PATCH", f"{API}/channels/<uuid:channel_id>"): {"state": "paused", "name": "Taken over"},
    ("POST", f"{API}/channels/<uuid:channel_id>/deliveries/<uuid:delivery_id>:retry"): None,
    ("POST", f"{API}/customers/<uuid:customer_id>/links"): {"days": 30},
    ("PATCH", f"{API}/orders/<uuid:order_id>"): {"installation_at": None},
}
BODYLESS = {"GET", "HEAD", "DELETE"}


def probe_kwargs(rule, method: str, world: ChainWorld) -> dict:
    if method in BODYLESS:
        return {}
    key = (method, rule.rule)
    assert key in PROBE_BODIES, (
        f"No probe body for {method} {rule.rule}: add a valid one to PROBE_BODIES, so that a "
        "request with another chain's id reaches the lookup instead of failing validation."
    )
    probe = PROBE_BODIES[key]
    if probe is None:
        return {}
    return {"json": probe(world) if callable(probe) else probe}


def foreign_paths(rule, a: ChainWorld, b: ChainWorld) -> list[str]:
    """Every path of the rule that names at least one of A's ids: all of A's, and, below
    B's own resource, A's (B's delivery group with A's member)."""
    names = sorted(rule.arguments)
    paths = []
    for owners in product((a, b), repeat=len(names)):
        if all(owner is b for owner in owners):
            continue
        ids = {name: owner.ids_for(rule)[name] for name, owner in zip(names, owners, strict=True)}
        paths += paths_for(rule, ids)
    return paths


def test_every_endpoint_answers_404_to_another_chains_ids_and_changes_nothing(
    app, acme, rival, connection
):
    before = database_snapshot(connection)
    probed = set()
    for rule in api_rules(app):
        if not rule.arguments:
            continue
        for method in sorted(rule.methods - AUTOMATIC_METHODS):
            for path in foreign_paths(rule, acme, rival):
                response = rival.tenant.open(method, path, **probe_kwargs(rule, method, rival))
                where = f"{method} {path} with chain B's key and chain A's id"
                assert response.status_code == 404, (where, response.get_data(True))
                if method != "HEAD":
                    assert_error(response, 404, "not_found")
                assert database_snapshot(connection) == before, f"{where} changed data"
                probed.add((method, rule.rule))
    assert ("DELETE", f"{API}/organisations/<uuid:organisation_id>") in probed
    assert ("PATCH", f"{API}/members/<uuid:member_id>") in probed
    assert ("POST", f"{API}/groups/<uuid:group_id>/messages") in probed
    assert ("DELETE", f"{API}/groups/<uuid:group_id>/members/<uuid:member_id>") in probed
    retry = f"{API}/channels/<uuid:channel_id>/deliveries/<uuid:delivery_id>:retry"
    assert ("POST", retry) in probed


def test_the_same_requests_succeed_for_the_owning_chain(app, acme):
    """The probes above are meaningful: with A's own key, the same reads find A's resources."""
    for rule in api_rules(app):
        if not rule.arguments or "GET" not in rule.methods:
            continue
        for path in paths_for(rule, acme.ids_for(rule)):
            assert acme.tenant.get(path).status_code == 200, path


def accepts(app, rule, name: str) -> bool:
    return any(name in schema().fields for _, schema in argument_schemas(app, rule, "GET"))


def test_no_read_with_one_chains_key_shows_another_chains_data(app, acme, rival):
    # Every name A gave its resources carries its label, so the label is foreign too.
    foreign = acme.all_ids() | set(acme.secrets) | set(acme.emails) | {acme.label}
    messages = f"{API}/groups/{rival.delivery_group_id}/messages"
    welcome = body(rival.tenant.get(messages, query_string={"limit": 500}))["items"][-1]
    extra_queries = {
        f"{API}/directory": [{"viewer_member_id": rival.brand_member_id}],
        f"{API}/organisations": [{"group_id": rival.east_id}, {"kind": "dealer"}],
        f"{API}/customers": [
            {"dealer_id": rival.dealer_id},
            {"owner_member_id": rival.dealer_member_id},
        ],
        f"{API}/orders": [
            {"dealer_id": rival.dealer_id},
            {"customer_id": rival.customer_id},
            {"factory_id": rival.factory_id},
            {"milestone": "received"},
        ],
        f"{API}/groups": [{"dealer_id": rival.dealer_id}, {"member_id": rival.factory_member_id}],
        f"{API}/groups/<uuid:group_id>/messages": [{"since": welcome["cursor"]}],
        f"{API}/groups/<uuid:group_id>/messages/export": [{"format": "csv"}],
        f"{API}/reports/delivery": [
            {"format": "csv"},
            {"format": "csv", "table": "factories"},
            {"factory_id": rival.factory_id},
            {"dealer_id": rival.dealer_id},
        ],
        f"{API}/reports/delivery/work-items": [
            *({"figure": figure} for figure in ("missed", "late_events")),
            {
                "figure": "stage",
                "factory_id": rival.factory_id,
                "from_milestone": "received",
                "to_milestone": "designed",
            },
            {"figure": "late_now", "format": "csv"},
        ],
        f"{API}/reports/service": [
            *({"format": "csv", "table": table} for table in ("members", "dealers", "weeks")),
            {"dealer_id": rival.dealer_id},
            {"member_id": rival.dealer_member_id},
        ],
    }
    seen_text = ""
    for rule in api_rules(app):
        if "GET" not in rule.methods:
            continue
        pages = [{}, {"limit": 500}] if accepts(app, rule, "limit") else [{}]
        for path in paths_for(rule, rival.ids_for(rule)):
            for query in [*pages, *extra_queries.get(rule.rule, [])]:
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
    reported_as: str = ""  # the field the error names, when not `field` (`items[0].factory_id`)

    def __str__(self) -> str:
        return f"{self.method} {self.rule} {self.field}"

    @property
    def named(self) -> str:
        return self.reported_as or self.field


def _customer(b: ChainWorld, **changes) -> dict:
    return {
        "json": {
            "name": "Stolen",
            "mobile": "139 5555 0005",
            "dealer_id": b.dealer_id,
            "owner_member_id": b.dealer_member_id,
            **changes,
        }
    }


def _order(b: ChainWorld, **changes) -> dict:
    item = {"factory_id": b.factory_id, "description": "Door", "quantity": 1}
    return {
        "json": {
            "customer_id": b.customer_id,
            "dealer_id": b.dealer_id,
            "reference": "SO-900",
            "items": [item],
            **changes,
        }
    }


def _query(path: str, name: str) -> Callable[[ChainWorld, str], tuple[str, dict]]:
    return lambda b, ref: (path, {"query_string": {name: ref}})


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
    Reference(
        "POST",
        f"{API}/customers",
        "dealer_id",
        lambda a: a.dealer_id,
        lambda b, ref: (f"{API}/customers", _customer(b, dealer_id=ref)),
    ),
    Reference(
        "POST",
        f"{API}/customers",
        "owner_member_id",
        lambda a: a.dealer_member_id,
        lambda b, ref: (f"{API}/customers", _customer(b, owner_member_id=ref)),
    ),
    Reference(
        "GET",
        f"{API}/customers",
        "dealer_id",
        lambda a: a.dealer_id,
        _query(f"{API}/customers", "dealer_id"),
    ),
    Reference(
        "GET",
        f"{API}/customers",
        "owner_member_id",
        lambda a: a.dealer_member_id,
        _query(f"{API}/customers", "owner_member_id"),
    ),
    Reference(
        "POST",
        f"{API}/orders",
        "customer_id",
        lambda a: a.customer_id,
        lambda b, ref: (f"{API}/orders", _order(b, customer_id=ref)),
    ),
    Reference(
        "POST",
        f"{API}/orders",
        "dealer_id",
        lambda a: a.dealer_id,
        lambda b, ref: (f"{API}/orders", _order(b, dealer_id=ref)),
    ),
    Reference(
        "POST",
        f"{API}/orders",
        "items[].factory_id",
        lambda a: a.factory_id,
        lambda b, ref: (
            f"{API}/orders",
            _order(b, items=[{"factory_id": ref, "description": "Door", "quantity": 1}]),
        ),
        reported_as="items[0].factory_id",
    ),
    Reference(
        "GET",
        f"{API}/orders",
        "dealer_id",
        lambda a: a.dealer_id,
        _query(f"{API}/orders", "dealer_id"),
    ),
    Reference(
        "GET",
        f"{API}/orders",
        "customer_id",
        lambda a: a.customer_id,
        _query(f"{API}/orders", "customer_id"),
    ),
    Reference(
        "GET",
        f"{API}/orders",
        "factory_id",
        lambda a: a.factory_id,
        _query(f"{API}/orders", "factory_id"),
    ),
    Reference(
        "POST",
        f"{API}/group-templates",
        "directory_group_id",
        lambda a: a.west_id,
        lambda b, ref: (
            f"{API}/group-templates",
            {"json": {"directory_group_id": ref, "name": "Stolen"}},
        ),
    ),
    Reference(
        "GET",
        f"{API}/groups",
        "dealer_id",
        lambda a: a.dealer_id,
        _query(f"{API}/groups", "dealer_id"),
    ),
    Reference(
        "GET",
        f"{API}/groups",
        "member_id",
        lambda a: a.factory_member_id,
        _query(f"{API}/groups", "member_id"),
    ),
    Reference(
        "POST",
        f"{API}/groups/<uuid:group_id>/members",
        "member_id",
        lambda a: a.brand_member_id,
        lambda b, ref: (
            f"{API}/groups/{b.delivery_group_id}/members",
            {"json": {"member_id": ref}},
        ),
    ),
    Reference(
        "POST",
        f"{API}/groups/<uuid:group_id>/messages",
        "sender_member_id",
        lambda a: a.dealer_member_id,
        lambda b, ref: (
            f"{API}/groups/{b.delivery_group_id}/messages",
            {"json": {"text": "Hello", "sender": "member", "sender_member_id": ref}},
        ),
    ),
    Reference(
        "POST",
        f"{API}/handovers",
        "from_member_id",
        lambda a: a.dealer_member_id,
        lambda b, ref: (
            f"{API}/handovers",
            {"json": {"from_member_id": ref, "to_member_id": b.dealer_designer_id}},
        ),
    ),
    Reference(
        "POST",
        f"{API}/handovers",
        "to_member_id",
        lambda a: a.dealer_designer_id,
        lambda b, ref: (
            f"{API}/handovers",
            {"json": {"from_member_id": b.dealer_member_id, "to_member_id": ref}},
        ),
    ),
    Reference(
        "POST",
        f"{API}/broadcasts",
        "dealer_id",
        lambda a: a.dealer_id,
        lambda b, ref: (f"{API}/broadcasts", {"json": {"text": "Stolen", "dealer_id": ref}}),
    ),
    *(
        Reference(
            "GET", f"{API}/reports/{path}", name, foreign, _query(f"{API}/reports/{path}", name)
        )
        for path in ("delivery", "delivery/work-items")
        for name, foreign in (
            ("factory_id", lambda a: a.factory_id),
            ("dealer_id", lambda a: a.dealer_id),
        )
    ),
    *(
        Reference(
            "GET", f"{API}/reports/service", name, foreign, _query(f"{API}/reports/service", name)
        )
        for name, foreign in (
            ("dealer_id", lambda a: a.dealer_id),
            ("member_id", lambda a: a.dealer_member_id),
        )
    ),
]
# Collection writes that name nothing by id; test_writes_reusing_another_chains_names_... covers
# them: matching by custom_id or path must stay inside the chain.
NAME_MATCHING_WRITES = {("POST", f"{API}/imports"), ("POST", f"{API}/directory-groups")}
# Writes to the key's own chain itself, naming nothing; test_chain_settings_... covers them.
OWN_CHAIN_WRITES = {("PATCH", f"{API}/chain")}


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
    checked |= OWN_CHAIN_WRITES
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
    assert reference.named in response.get_json()["error"]["details"]["fields"]
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
    for name in ("customers", "orders", "groups", "group-templates"):
        view[name] = body(t.get(f"{API}/{name}", query_string={"limit": 500}))
    for order in view["orders"]["items"]:
        view[order["id"]] = body(t.get(f"{API}/orders/{order['id']}"))
    for group in view["groups"]["items"]:
        path = f"{API}/groups/{group['id']}"
        view[path] = body(t.get(path))
        view[f"{path}/messages"] = body(t.get(f"{path}/messages", query_string={"limit": 500}))
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


def test_delivery_writes_reusing_another_chains_mobile_and_references_stay_in_the_chain(
    acme, other_tenant
):
    a_before = chain_view(acme)
    t = other_tenant
    dealer = body(t.post(f"{API}/organisations", json={"kind": "dealer", "name": "B Store"}), 201)
    factory = body(t.post(f"{API}/organisations", json={"kind": "factory", "name": "B Works"}), 201)
    owner = body(
        t.post(
            f"{API}/organisations/{dealer['id']}/members",
            json={"name": "B owner", "role": "service_specialist"},
        ),
        201,
    )
    # A knows this mobile; for B it is a new customer, not A's.
    customer = body(
        t.post(
            f"{API}/customers",
            json={
                "name": "B Customer",
                "mobile": CUSTOMER_MOBILE,
                "dealer_id": dealer["id"],
                "owner_member_id": owner["id"],
            },
        ),
        201,
    )
    assert customer["id"] != acme.customer_id
    # A's order reference and factory reference; A's message id: all free in B.
    order = body(
        t.post(
            f"{API}/orders",
            json={
                "customer_id": customer["id"],
                "dealer_id": dealer["id"],
                "reference": "SO-001",
                "items": [
                    {
                        "factory_id": factory["id"],
                        "description": "Panel",
                        "quantity": 1,
                        "factory_reference": "P-001",
                    }
                ],
            },
        ),
        201,
    )
    assert order["id"] != acme.order_id
    group = body(t.get(f"{API}/groups/{order['group_id']}"))
    assert group["template_id"] not in acme.all_ids()  # B's default, not A's template
    posted = body(
        t.post(
            f"{API}/groups/{order['group_id']}/messages",
            json={
                "text": "When will you install?",
                "sender": "customer",
                "client_message_id": "c-1",
            },
        ),
        201,
    )
    assert [m["kind"] for m in posted["items"]] == ["text"]  # A's auto-reply is not B's
    assert not {m["id"] for m in posted["items"]} & acme.all_ids()

    assert chain_view(acme) == a_before


def test_chain_settings_are_read_and_changed_in_the_keys_own_chain_only(acme, rival):
    a_before = chain_view(acme), body(acme.tenant.get(f"{API}/chain"))
    changes = {"name": "Taken over", "timezone": "Europe/Paris", "quiet_hours": None,
               "broadcast_quota": 3}  # fmt: skip
    changed = body(rival.tenant.patch(f"{API}/chain", json=changes))
    assert changed["id"] == str(rival.tenant.chain_id)
    assert body(rival.tenant.get(f"{API}/chain")) == changed
    assert (chain_view(acme), body(acme.tenant.get(f"{API}/chain"))) == a_before


DELIVERY_LISTS = {
    "customers": lambda w: [w.customer_id],
    "orders": lambda w: [w.order_id],
    "groups": lambda w: [w.delivery_group_id],
    "group-templates": lambda w: [w.default_template_id, w.template_id],
    "broadcasts": lambda w: [w.broadcast_id],
}


@pytest.mark.parametrize("name", DELIVERY_LISTS)
def test_a_delivery_list_shows_exactly_the_chains_own_items(acme, rival, name):
    for world, other in ((acme, rival), (rival, acme)):
        items = body(world.tenant.get(f"{API}/{name}", query_string={"limit": 500}))["items"]
        assert sorted(item["id"] for item in items) == sorted(DELIVERY_LISTS[name](world))
        assert not {item["id"] for item in items} & other.all_ids()


def test_a_groups_messages_are_exactly_its_own(acme, rival):
    for world, other in ((acme, rival), (rival, acme)):
        path = f"{API}/groups/{world.delivery_group_id}/messages"
        items = body(world.tenant.get(path, query_string={"limit": 500}))["items"]
        assert [m["id"] for m in items] == world.message_ids
        assert {m["group_id"] for m in items} == {world.delivery_group_id}
        assert not {m["id"] for m in items} & set(other.message_ids)
        exported = world.tenant.get(f"{path}/export").get_data(as_text=True).splitlines()
        assert len(exported) == len(world.message_ids)
        assert not any(other.label in line for line in exported)
