"""A brand's chain built through the API, and what the tests need to walk every endpoint:
the /api/v1 rules of the URL map, their argument schemas, and a snapshot of the database."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from itertools import product

from marshmallow import fields
from sqlalchemy import select
from werkzeug.routing import Rule

from service.models import metadata

API = "/api/v1"
# The OpenAPI document and the docs page (with its assets) are public and hold no chain data.
DOCS_RULES = (f"{API}/openapi.json", f"{API}/docs")
# Flask answers OPTIONS itself with the Allow header; it reads no data.
AUTOMATIC_METHODS = {"OPTIONS"}
_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def api_rules(app) -> list[Rule]:
    """Every rule the app serves under /api/v1 except the docs."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(API + "/")
            and not any(rule.rule == d or rule.rule.startswith(d + "/") for d in DOCS_RULES)
        ),
        key=lambda rule: rule.rule,
    )


def api_operations(app) -> list[tuple[Rule, str]]:
    """(rule, method) for every /api/v1 operation a client can call (HEAD and OPTIONS aside)."""
    return [
        (rule, method)
        for rule in api_rules(app)
        for method in sorted(rule.methods - AUTOMATIC_METHODS - {"HEAD"})
    ]


def fill(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each <converter:name> replaced by values[name]."""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), rule.rule)


def paths_for(rule: Rule, ids: dict[str, list[str]]) -> list[str]:
    """The rule's path for every combination of the given ids of its parameters. Fails on a
    parameter this module does not know how to fill."""
    names = sorted(rule.arguments)
    unknown = [name for name in names if name not in ids]
    assert not unknown, (
        f"{rule.rule} has URL parameter(s) {unknown} that the tenant-isolation tests do not "
        f"know; add them to ChainWorld.ids in {__name__} so that they are checked."
    )
    return [
        fill(rule, dict(zip(names, combo, strict=True))) for combo in product(*map(ids.get, names))
    ]


def view_of(app, rule: Rule, method: str):
    view = app.view_functions[rule.endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method.lower()) if view_class else view


def argument_schemas(app, rule: Rule, method: str) -> list[tuple[str, type]]:
    """(location, schema class) of each flask-smorest @arguments of the operation."""
    doc = getattr(view_of(app, rule, method), "_apidoc", {})
    return [(p["in"], p["schema"]) for p in doc.get("arguments", {}).get("parameters", [])]


def id_fields(app, rule: Rule, method: str) -> list[tuple[str, str]]:
    """(location, field name) of every argument that refers to something by id."""
    found = []
    for location, schema in argument_schemas(app, rule, method):
        for name, field_ in schema().fields.items():
            inner = field_.inner if isinstance(field_, fields.List) else field_
            if isinstance(inner, fields.UUID):
                found.append((location, name))
    return found


def database_snapshot(connection) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    return {
        table.name: [
            tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))
        ]
        for table in metadata.sorted_tables
    }


def body(response, status: int | tuple[int, ...] = (200, 201)) -> dict:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.get_data(True))
    return response.get_json()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's one error format with this status; returns the error."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    payload = response.get_json()
    assert isinstance(payload, dict) and set(payload) == {"error"}, payload
    error = payload["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


def bad_fields(response) -> set[str]:
    return set(assert_error(response, 422)["details"].get("fields", {}))


@dataclass
class ChainWorld:
    """One chain's resources, made through the API: two directory trees with a rule between
    them, a dealer and a factory with members, an invitation and an import."""

    tenant: object
    label: str
    brand_id: str = ""
    dealer_id: str = ""
    factory_id: str = ""
    imported_id: str = ""
    dealer_member_id: str = ""
    factory_member_id: str = ""
    brand_member_id: str = ""
    east_id: str = ""
    shanghai_id: str = ""
    west_id: str = ""
    hangzhou_id: str = ""
    rule_id: str = ""
    invitation_id: str = ""
    import_id: str = ""
    secrets: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    @property
    def ids(self) -> dict[str, list[str]]:
        """URL parameter name → ids of this chain's resources it may name."""
        return {
            "organisation_id": [self.brand_id, self.dealer_id, self.factory_id, self.imported_id],
            "member_id": [self.dealer_member_id, self.factory_member_id, self.brand_member_id],
            "group_id": [self.east_id, self.shanghai_id, self.west_id, self.hangzhou_id],
            "rule_id": [self.rule_id],
            "import_id": [self.import_id],
            "invitation_id": [self.invitation_id],
        }

    def all_ids(self) -> set[str]:
        return {value for values in self.ids.values() for value in values}


def build_chain_world(tenant, label: str) -> ChainWorld:
    world = ChainWorld(tenant, label)
    t = tenant
    shanghai = body(t.post(f"{API}/directory-groups", json={"path": "East/Shanghai"}), 201)
    west = body(t.post(f"{API}/directory-groups", json={"path": "West"}), 201)
    world.shanghai_id, world.east_id, world.west_id = (
        shanghai["id"],
        shanghai["parent_id"],
        west["id"],
    )
    world.brand_id = str(t.brand_id)
    dealer = body(
        t.post(
            f"{API}/organisations",
            json={
                "kind": "dealer",
                "name": f"{label} Pudong Store",
                "custom_id": "D-001",
                "group_ids": [world.shanghai_id],
            },
        ),
        201,
    )
    factory = body(
        t.post(
            f"{API}/organisations",
            json={
                "kind": "factory",
                "name": f"{label} Panel Works",
                "custom_id": "F-001",
                "group_ids": [world.west_id],
            },
        ),
        201,
    )
    world.dealer_id, world.factory_id = dealer["id"], factory["id"]
    world.secrets.append(factory["webhook_secret"])
    people = (
        ("dealer_member_id", world.dealer_id, "service_specialist", "13812345678"),
        ("factory_member_id", world.factory_id, "coordinator", "13987654321"),
        ("brand_member_id", world.brand_id, "admin", "13700001111"),
    )
    for attribute, organisation_id, role, mobile in people:
        email = f"{role}@{label.lower()}.example"
        member = body(
            t.post(
                f"{API}/organisations/{organisation_id}/members",
                json={"name": f"{label} {role}", "role": role, "mobile": mobile, "email": email},
            ),
            201,
        )
        setattr(world, attribute, member["id"])
        world.emails.append(email)
    rule = body(
        t.post(
            f"{API}/visibility-rules",
            json={"viewer_group_id": world.east_id, "visible_group_id": world.west_id},
        ),
        201,
    )
    world.rule_id = rule["id"]
    invitation = body(
        t.post(f"{API}/invitations", json={"kind": "dealer", "group_ids": [world.east_id]}), 201
    )
    world.invitation_id = invitation["id"]
    world.secrets.append(invitation["code"])
    imported = body(
        t.post(
            f"{API}/imports",
            json={
                "organisations": [
                    {
                        "custom_id": "D-002",
                        "kind": "dealer",
                        "name": f"{label} Hangzhou Store",
                        "groups": ["East/Hangzhou"],
                        "members": [{"name": "Wang Fang", "role": "sales"}],
                    }
                ]
            },
        ),
        201,
    )
    assert imported["failed"] == 0, imported
    world.import_id = imported["id"]
    world.imported_id = imported["results"][0]["organisation_id"]
    groups = body(t.get(f"{API}/directory-groups", query_string={"limit": 500}))["items"]
    world.hangzhou_id = next(g["id"] for g in groups if g["path"] == "East/Hangzhou")
    return world


def new_uuid() -> str:
    return str(uuid.uuid4())
