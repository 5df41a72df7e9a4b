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

from service.channels.models import Delivery
from service.db import new_id
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


def _uuid_fields(schema, prefix: str = "") -> list[str]:
    """Names of the schema's UUID fields, nested ones too: `items[].factory_id`."""
    found = []
    for name, field_ in schema.fields.items():
        if field_.dump_only:
            continue  # answered, never sent: `id` in a schema used both ways
        is_list = isinstance(field_, fields.List)
        inner = field_.inner if is_list else field_
        if isinstance(inner, fields.UUID):
            found.append(prefix + name)
        elif isinstance(inner, fields.Nested):
            found += _uuid_fields(inner.schema, f"{prefix}{name}{'[]' if is_list else ''}.")
    return found


def id_fields(app, rule: Rule, method: str) -> list[tuple[str, str]]:
    """(location, field name) of every argument that refers to something by id, in nested
    objects too (`items[].factory_id`)."""
    return [
        (location, name)
        for location, schema in argument_schemas(app, rule, method)
        for name in _uuid_fields(schema())
    ]


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


# Under /groups, `group_id` is a delivery group; everywhere else, a directory group.
DELIVERY_GROUP_RULES = f"{API}/groups/"


def names_delivery_group(rule: Rule) -> bool:
    return rule.rule.startswith(DELIVERY_GROUP_RULES)


@dataclass
class ChainWorld:
    """One chain's resources, made through the API: two directory trees with a rule between
    them, a dealer and a factory with members, an invitation and an import; and the delivery
    side: a template for the dealer's directory group, a customer, an order of two work items
    (one with a factory_reference), the customer's delivery group and its messages, a channel
    of the group and a delivery of its first message."""

    tenant: object
    label: str
    brand_id: str = ""
    dealer_id: str = ""
    factory_id: str = ""
    imported_id: str = ""
    dealer_member_id: str = ""
    dealer_designer_id: str = ""
    factory_member_id: str = ""
    brand_member_id: str = ""
    east_id: str = ""
    shanghai_id: str = ""
    west_id: str = ""
    hangzhou_id: str = ""
    rule_id: str = ""
    invitation_id: str = ""
    import_id: str = ""
    default_template_id: str = ""
    template_id: str = ""
    customer_id: str = ""
    order_id: str = ""
    work_item_ids: list[str] = field(default_factory=list)
    delivery_group_id: str = ""
    message_ids: list[str] = field(default_factory=list)
    broadcast_id: str = ""
    channel_id: str = ""
    delivery_id: str = ""
    link_id: str = ""
    secrets: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    @property
    def ids(self) -> dict[str, list[str]]:
        """Kind of id → ids of this chain's resources of that kind."""
        return {
            "organisation_id": [self.brand_id, self.dealer_id, self.factory_id, self.imported_id],
            "member_id": [
                self.dealer_member_id,
                self.dealer_designer_id,
                self.factory_member_id,
                self.brand_member_id,
            ],
            "directory_group_id": [self.east_id, self.shanghai_id, self.west_id, self.hangzhou_id],
            "delivery_group_id": [self.delivery_group_id],
            "rule_id": [self.rule_id],
            "import_id": [self.import_id],
            "invitation_id": [self.invitation_id],
            "template_id": [self.default_template_id, self.template_id],
            "customer_id": [self.customer_id],
            "order_id": [self.order_id],
            "work_item_id": self.work_item_ids,
            "message_id": self.message_ids,
            "broadcast_id": [self.broadcast_id],
            "channel_id": [self.channel_id],
            "delivery_id": [self.delivery_id],
            "link_id": [self.link_id],
        }

    def ids_for(self, rule: Rule) -> dict[str, list[str]]:
        """URL parameter name → ids of this chain's resources it may name in this rule."""
        ids = self.ids
        group = "delivery_group_id" if names_delivery_group(rule) else "directory_group_id"
        return {**ids, "group_id": ids[group]}

    def all_ids(self) -> set[str]:
        return {value for values in self.ids.values() for value in values}


# The same in every chain: a customer is unique by mobile in a chain, not across chains.
CUSTOMER_MOBILE = "139 1111 0001"


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
        ("dealer_designer_id", world.dealer_id, "designer", "13812340000"),
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
    build_delivery(world)
    return world


def build_delivery(world: ChainWorld) -> None:
    """The delivery side of the world: a template for East (where the dealer sits, below
    it), a customer, their order, their group with the factory's coordinator added, and
    messages (one answered by the template's auto-reply) and a milestone notification."""
    t, label = world.tenant, world.label
    templates = body(t.get(f"{API}/group-templates"))["items"]
    world.default_template_id = next(tp["id"] for tp in templates if tp["is_default"])
    template = {
        "directory_group_id": world.east_id,
        "name": f"{label} East",
        "name_pattern": "{customer_name}·{dealer_name} delivery",
        "welcome_message": "Welcome, {customer_name}! " + f"{label} is glad to serve you.",
        "auto_replies": [{"keyword": "install", "reply": f"{label}'s installer will call you."}],
        "blocked_words": [{"word": "kickback", "action": "warn"}],
    }
    world.template_id = body(t.post(f"{API}/group-templates", json=template), 201)["id"]
    customer = {
        "name": f"{label} Customer",
        "mobile": CUSTOMER_MOBILE,
        "dealer_id": world.dealer_id,
        "owner_member_id": world.dealer_member_id,
        "tags": ["vip"],
        "notes": f"{label} notes",
    }
    world.customer_id = body(t.post(f"{API}/customers", json=customer), 201)["id"]
    order = {
        "customer_id": world.customer_id,
        "dealer_id": world.dealer_id,
        "reference": "SO-001",
        "items": [
            {
                "factory_id": world.factory_id,
                "description": f"{label} wardrobe panels",
                "quantity": 4,
                "factory_reference": "P-001",
            },
            {"factory_id": world.factory_id, "description": "Frame", "quantity": 1},
        ],
    }
    placed = body(t.post(f"{API}/orders", json=order), 201)
    world.order_id, world.delivery_group_id = placed["id"], placed["group_id"]
    world.work_item_ids = [item["id"] for item in placed["items"]]
    assert placed["group_id"], placed
    group = body(t.get(f"{API}/groups/{world.delivery_group_id}"))
    assert group["template_id"] == world.template_id, group
    progress = {"milestone": "in_production", "note": f"{label} batch started"}
    path = f"{API}/work-items/{world.work_item_ids[0]}/progress"
    assert body(t.post(path, json=progress))["moved"] is True
    seat = {"member_id": world.factory_member_id}
    body(t.post(f"{API}/groups/{world.delivery_group_id}/members", json=seat), 201)
    messages = f"{API}/groups/{world.delivery_group_id}/messages"
    question = {"text": f"When will you install? ({label})", "sender": "customer",
                "client_message_id": "c-1"}  # fmt: skip
    assert len(body(t.post(messages, json=question), 201)["items"]) == 2  # with the auto-reply
    answer = {"text": f"{label} panels are being made.", "sender": "member",
              "sender_member_id": world.factory_member_id}  # fmt: skip
    body(t.post(messages, json=answer), 201)
    sale = {"text": f"{label} spring sale: 20% off wardrobes", "tag": "vip"}
    world.broadcast_id = body(t.post(f"{API}/broadcasts", json=sale), 201)["id"]
    world.message_ids = [
        m["id"] for m in body(t.get(messages, query_string={"limit": 500}))["items"]
    ]
    hook = {"type": "webhook", "url": LOOPBACK_URL, "name": f"{label} hook"}
    channel = body(t.post(f"{API}/groups/{world.delivery_group_id}/channels", json=hook), 201)
    world.channel_id = channel["id"]
    world.secrets.append(channel["secret"])
    world.delivery_id = owe(t, world.channel_id, world.message_ids[:1])[0]
    link = body(t.post(f"{API}/customers/{world.customer_id}/links", json={}), 201)
    world.link_id = link["id"]
    world.secrets.append(link["url"].rsplit("/", 1)[1])


# Where the tests' channels point: loopback, which the tests' outbound policy allows; nothing
# listens on the discard port, and nothing here runs the pipeline's jobs anyway.
LOOPBACK_URL = "http://127.0.0.1:9/hook"


def owe(tenant, channel_id: str, message_ids: list[str], **columns) -> list[str]:
    """Deliveries of the messages to the channel, written directly (the pipeline's planning
    job makes them, and no job runs here), in the order given; ids returned."""
    deliveries = [
        Delivery(
            id=new_id(),  # UUIDv7, made here: id order is the order given
            chain_id=tenant.chain_id,
            channel_id=uuid.UUID(channel_id),
            message_id=uuid.UUID(message_id),
            **columns,
        )
        for message_id in message_ids
    ]
    with tenant.client.application.extensions["db"].session() as session:
        session.add_all(deliveries)
        session.commit()
    return [str(delivery.id) for delivery in deliveries]


def new_uuid() -> str:
    return str(uuid.uuid4())
