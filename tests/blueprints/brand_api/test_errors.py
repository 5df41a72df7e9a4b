"""Bad requests get the one error format, name what is wrong, never a 500, and change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.blueprints.brand_api.chain_world import (
    API,
    LOOPBACK_URL,
    ChainWorld,
    api_operations,
    api_rules,
    argument_schemas,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
    fill,
    names_delivery_group,
    new_uuid,
)

# Fixed, so that test ids are the same in every process (pytest-xdist compares them).
UNKNOWN_ID = "01234567-89ab-7def-8123-456789abcdef"

# A valid JSON body for every operation that takes one, given chain A's world.
VALID_BODIES = {
    ("POST", f"{API}/organisations"): lambda w: {"kind": "dealer", "name": "Xuhui Store"},
    ("PATCH", f"{API}/organisations/<uuid:organisation_id>"): lambda w: {"name": "Renamed"},
    ("POST", f"{API}/organisations/<uuid:organisation_id>/members"): lambda w: {
        "name": "Zhang Min",
        "role": "installer",
    },
    ("PATCH", f"{API}/members/<uuid:member_id>"): lambda w: {"role": "designer"},
    ("POST", f"{API}/members/<uuid:member_id>/password-link"): lambda w: {},
    ("POST", f"{API}/invitations"): lambda w: {"kind": "factory"},
    ("POST", f"{API}/imports"): lambda w: {
        "organisations": [{"custom_id": "D-100", "kind": "dealer", "name": "Minhang Store"}]
    },
    ("POST", f"{API}/directory-groups"): lambda w: {"path": "North/Beijing"},
    ("PATCH", f"{API}/directory-groups/<uuid:group_id>"): lambda w: {"name": "Renamed"},
    ("POST", f"{API}/visibility-rules"): lambda w: {
        "viewer_group_id": w.west_id,
        "visible_group_id": w.east_id,
    },
    ("POST", f"{API}/customers"): lambda w: {
        "name": "Chen Jing",
        "mobile": "+86 139 0000 1234",
        "dealer_id": w.dealer_id,
        "owner_member_id": w.dealer_member_id,
    },
    ("PATCH", f"{API}/customers/<uuid:customer_id>"): lambda w: {"tags": ["renovation"]},
    ("POST", f"{API}/customers/<uuid:customer_id>/links"): lambda w: {"days": 30},
    ("POST", f"{API}/orders"): lambda w: {
        "customer_id": w.customer_id,
        "dealer_id": w.dealer_id,
        "reference": "SO-100",
        "items": [{"factory_id": w.factory_id, "description": "Cabinet", "quantity": 2}],
    },
    ("PATCH", f"{API}/orders/<uuid:order_id>"): lambda w: {
        "installation_at": (datetime.now(UTC) + timedelta(days=7)).isoformat()
    },
    ("PATCH", f"{API}/work-items/<uuid:work_item_id>"): lambda w: {
        "promised_at": (datetime.now(UTC) + timedelta(days=20)).isoformat()
    },
    ("POST", f"{API}/work-items/<uuid:work_item_id>/progress"): lambda w: {
        "milestone": "quality_checked",
        "note": "All panels pass",
    },
    ("POST", f"{API}/group-templates"): lambda w: {
        "directory_group_id": w.west_id,
        "name": "West",
    },
    ("PATCH", f"{API}/group-templates/<uuid:template_id>"): lambda w: {
        "welcome_message": "Hello {customer_name}"
    },
    ("PATCH", f"{API}/groups/<uuid:group_id>"): lambda w: {
        "rename_locked": False,
        "name": "Chen's new home",
    },
    ("POST", f"{API}/groups/<uuid:group_id>/members"): lambda w: {"member_id": w.brand_member_id},
    ("POST", f"{API}/groups/<uuid:group_id>/messages"): lambda w: {
        "text": "Is Tuesday fine?",
        "sender": "member",
        "sender_member_id": w.dealer_member_id,
        "client_message_id": "m-100",
    },
    ("POST", f"{API}/handovers"): lambda w: {
        "from_member_id": w.dealer_member_id,
        "to_member_id": w.dealer_designer_id,
    },
    ("POST", f"{API}/groups/<uuid:group_id>/channels"): lambda w: {
        "type": "wecom_robot",
        "url": LOOPBACK_URL,
    },
    ("PATCH", f"{API}/channels/<uuid:channel_id>"): lambda w: {"name": "Renamed"},
    ("PATCH", f"{API}/chain"): lambda w: {"quiet_hours": {"start": "21:30", "end": "07:00"}},
    ("POST", f"{API}/broadcasts"): lambda w: {"text": "Summer sale", "tag": "vip"},
}


def json_body_operations(app, client) -> list[tuple[object, str]]:
    """Every operation whose OpenAPI entry takes a JSON request body."""
    spec = client.get(f"{API}/openapi.json").get_json()
    found = []
    for rule in api_rules(app):
        spec_path = rule.rule
        for name in rule.arguments:
            spec_path = spec_path.replace(f"<uuid:{name}>", f"{{{name}}}")
        for method, operation in spec["paths"].get(spec_path, {}).items():
            if method == "parameters":
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((rule, method.upper()))
    return found


def own_path(rule, world: ChainWorld) -> str:
    """The rule's path with ids of the world's own resources (the dealer, its member...)."""
    own = {
        "organisation_id": world.dealer_id,
        "member_id": world.dealer_member_id,
        "group_id": world.delivery_group_id if names_delivery_group(rule) else world.shanghai_id,
        "rule_id": world.rule_id,
        "import_id": world.import_id,
        "invitation_id": world.invitation_id,
        "customer_id": world.customer_id,
        "order_id": world.order_id,
        "work_item_id": world.work_item_ids[0],
        "template_id": world.template_id,
        "channel_id": world.channel_id,
        "delivery_id": world.delivery_id,
        "broadcast_id": world.broadcast_id,
    }
    unknown = set(rule.arguments) - set(own)
    assert not unknown, f"{rule.rule}: no own id for {unknown}; add one to own_path"
    return fill(rule, own)


def test_every_json_operation_has_a_valid_body_here(app, client):
    missing = [
        f"{method} {rule.rule}"
        for rule, method in json_body_operations(app, client)
        if (method, rule.rule) not in VALID_BODIES
    ]
    assert not missing, f"add a valid body to VALID_BODIES for {missing}"


def test_the_valid_bodies_are_accepted(app, client, acme):
    for rule, method in json_body_operations(app, client):
        response = acme.tenant.open(
            method, own_path(rule, acme), json=VALID_BODIES[(method, rule.rule)](acme)
        )
        assert response.status_code in (200, 201), (method, rule.rule, response.get_json())


def test_unknown_fields_are_refused_with_422_naming_them(app, client, acme, connection):
    before = database_snapshot(connection)
    for rule, method in json_body_operations(app, client):
        payload = {**VALID_BODIES[(method, rule.rule)](acme), "colour": "red"}
        response = acme.tenant.open(method, own_path(rule, acme), json=payload)
        assert "colour" in bad_fields(response), (method, rule.rule)
    assert database_snapshot(connection) == before


def test_malformed_json_is_refused_with_400(app, client, acme, connection):
    before = database_snapshot(connection)
    for rule, method in json_body_operations(app, client):
        for text in ('{"kind": "dealer",', "{'kind': 'dealer'}", "\x00", "[1, 2"):
            response = acme.tenant.open(
                method, own_path(rule, acme), data=text, content_type="application/json"
            )
            assert_error(response, 400, "bad_request")
    assert database_snapshot(connection) == before


BAD_FIELDS = [
    (
        "POST",
        "/organisations",
        {"kind": "shop", "name": "", "custom_id": "", "group_ids": ["x"]},
        {"kind", "name", "custom_id", "group_ids[0]"},
    ),
    ("POST", "/organisations", {}, {"kind", "name"}),
    ("POST", "/organisations", {"kind": "brand", "name": "Second brand"}, {"kind"}),
    ("POST", "/organisations", {"kind": "dealer", "name": "   "}, {"name"}),
    ("POST", "/organisations", {"kind": "dealer", "name": "x" * 201}, {"name"}),
    # PostgreSQL cannot store NUL: refused as a bad value, on every backend alike.
    ("POST", "/organisations", {"kind": "dealer", "name": "Nul\x00Store"}, {"name"}),
    ("POST", "/directory-groups", {"path": "East/\x00"}, {"path"}),
    ("PATCH", "/organisations/{dealer_id}", {"name": "", "group_ids": "x"}, {"name", "group_ids"}),
    (
        "POST",
        "/organisations/{dealer_id}/members",
        {"name": "", "role": "boss", "email": "not-an-email", "mobile": "1"},
        {"name", "role", "email", "mobile"},
    ),
    (
        "POST",
        "/organisations/{dealer_id}/members",
        {"name": "Li", "role": "sales", "mobile": "12345"},
        {"mobile"},
    ),
    (
        "POST",
        "/organisations/{dealer_id}/members",
        {"name": "Li", "role": "sales", "password": "short"},
        {"password"},
    ),
    ("PATCH", "/members/{dealer_member_id}", {"role": "boss", "name": ""}, {"role", "name"}),
    ("PATCH", "/members/{dealer_member_id}", {"mobile": "not a phone"}, {"mobile"}),
    (
        "POST",
        "/invitations",
        {"kind": "brand", "expires_in_hours": 0},
        {"kind", "expires_in_hours"},
    ),
    ("POST", "/invitations", {"kind": "dealer", "expires_in_hours": 721}, {"expires_in_hours"}),
    ("POST", "/invitations", {"kind": "dealer", "group_ids": [new_uuid()]}, {"group_ids"}),
    ("POST", "/directory-groups", {}, {"name"}),
    ("POST", "/directory-groups", {"name": "a/b"}, {"name"}),
    ("POST", "/directory-groups", {"path": "East//Pudong"}, {"path"}),
    ("POST", "/directory-groups", {"path": "/".join("abcdefghijk")}, {"path"}),
    ("POST", "/directory-groups", {"path": "East", "parent_id": "{east_id}"}, {"parent_id"}),
    ("PATCH", "/directory-groups/{east_id}", {"name": " / "}, {"name"}),
    (
        "POST",
        "/visibility-rules",
        {"viewer_group_id": "x"},
        {"viewer_group_id", "visible_group_id"},
    ),
    (
        "POST",
        "/visibility-rules",
        {"viewer_group_id": "{east_id}", "visible_group_id": new_uuid()},
        {"visible_group_id"},
    ),
    ("GET", "/organisations?kind=shop&limit=0&group_id=x", None, {"kind", "limit", "group_id"}),
    ("GET", "/organisations?limit=501", None, {"limit"}),
    ("GET", "/directory?viewer_member_id=nope&limit=x", None, {"viewer_member_id", "limit"}),
    ("GET", f"/directory?viewer_member_id={UNKNOWN_ID}", None, {"viewer_member_id"}),
    ("GET", "/directory-groups?parent_id=x", None, {"parent_id"}),
    ("POST", "/imports", {"organisations": []}, {"organisations"}),
    ("POST", "/imports", {"rows": []}, {"organisations", "rows"}),
    ("POST", "/customers", {}, {"name", "mobile", "dealer_id", "owner_member_id"}),
    (
        "POST",
        "/customers",
        {"name": "Li", "mobile": "12", "dealer_id": "x", "owner_member_id": 5, "tags": "vip"},
        {"mobile", "dealer_id", "owner_member_id", "tags"},
    ),
    (
        "POST",
        "/customers",
        {"name": "Li", "mobile": "1234 5678", "dealer_id": "{dealer_id}",
         "owner_member_id": "{dealer_member_id}"},
        {"mobile"},
    ),
    ("PATCH", "/customers/{customer_id}", {"tags": ["x" * 51], "name": ""}, {"tags[0]", "name"}),
    ("PATCH", "/customers/{customer_id}", {"owner_member_id": "{dealer_member_id}"},
     {"owner_member_id"}),
    ("POST", "/orders", {}, {"customer_id", "dealer_id", "reference", "items"}),
    (
        "POST",
        "/orders",
        {"customer_id": "{customer_id}", "dealer_id": "{dealer_id}", "reference": "  ",
         "items": [{"factory_id": "{factory_id}", "description": "Door", "quantity": 1}]},
        {"reference"},
    ),
    (
        "POST",
        "/orders",
        {"customer_id": "{customer_id}", "dealer_id": "{dealer_id}", "reference": "SO-9",
         "items": [{"factory_id": "{factory_id}", "description": "  ", "quantity": 1}]},
        {"items[0].description"},
    ),
    (
        "POST",
        "/work-items/{work_item_ids[0]}/progress",
        {"milestone": "lost", "occurred_at": "yesterday", "eta": "2030-01-01T00:00:00"},
        {"milestone", "occurred_at", "eta"},
    ),
    (
        "POST",
        "/group-templates",
        {"directory_group_id": "x", "member_cap": 501, "member_roles": ["boss"]},
        {"directory_group_id", "member_cap", "member_roles[0]"},
    ),
    ("POST", "/group-templates", {"name_pattern": "{{shop}}"}, {"name_pattern"}),
    ("PATCH", "/group-templates/{template_id}", {"welcome_message": "{{x}}"}, {"welcome_message"}),
    ("PATCH", "/groups/{delivery_group_id}", {"name": "", "rename_locked": "x"},
     {"name", "rename_locked"}),
    ("POST", "/groups/{delivery_group_id}/members", {}, {"member_id"}),
    ("POST", "/groups/{delivery_group_id}/messages", {"text": "", "sender": "bot"},
     {"text", "sender"}),
    ("POST", "/groups/{delivery_group_id}/messages",
     {"text": "Hi", "sender": "customer", "client_message_id": "x" * 101}, {"client_message_id"}),
    ("POST", "/handovers", {}, {"from_member_id", "to_member_id"}),
    ("POST", "/broadcasts", {"text": "Hi"}, {"audience"}),
    ("POST", "/broadcasts", {"text": " ", "tag": "", "all": "x"}, {"text", "tag", "all"}),
    ("POST", "/broadcasts", {"text": "Hi", "tag": "vip", "all": True}, {"tag", "all"}),
    ("POST", "/broadcasts", {"text": "Hi", "dealer_id": "{factory_id}"}, {"dealer_id"}),
    ("GET", "/broadcasts?limit=0", None, {"limit"}),
    ("GET", "/orders?milestone=lost&limit=0&factory_id=x", None,
     {"milestone", "limit", "factory_id"}),
    ("GET", "/customers?dealer_id=x&owner_member_id=y", None, {"dealer_id", "owner_member_id"}),
    ("GET", "/groups?member_id=x&limit=501", None, {"member_id", "limit"}),
    ("GET", "/groups/{delivery_group_id}/messages?since=x", None, {"since"}),
    ("GET", "/groups/{delivery_group_id}/messages/export?format=xml&limit=5", None,
     {"format", "limit"}),
]  # fmt: skip


def _format(template, world: ChainWorld):
    if isinstance(template, str):
        return template.format(**vars(world))
    if isinstance(template, dict):
        return {key: _format(value, world) for key, value in template.items()}
    if isinstance(template, list):
        return [_format(value, world) for value in template]
    return template


@pytest.mark.parametrize(
    ("method", "path", "payload", "fields"),
    BAD_FIELDS,
    ids=[f"{m} {p} {sorted(f)}" for m, p, _, f in BAD_FIELDS],
)
def test_bad_fields_are_refused_with_422_naming_each_of_them(
    acme, connection, method, path, payload, fields
):
    before = database_snapshot(connection)
    kwargs = {} if payload is None else {"json": _format(payload, acme)}
    response = acme.tenant.open(method, API + _format(path, acme), **kwargs)
    assert bad_fields(response) == fields
    assert database_snapshot(connection) == before


def test_unknown_and_malformed_ids_in_paths_are_404(app, acme, connection):
    before = database_snapshot(connection)
    for rule, method in api_operations(app):
        if not rule.arguments:
            continue
        make_body = VALID_BODIES.get((method, rule.rule))
        kwargs = {"json": make_body(acme)} if make_body else {}
        for value in (new_uuid(), str(uuid.UUID(int=0)), "not-a-uuid", "42", new_uuid() + "0"):
            path = fill(rule, dict.fromkeys(rule.arguments, value))
            response = acme.tenant.open(method, path, **kwargs)
            where = f"{method} {path}"
            assert response.status_code == 404, (where, response.get_data(True))
            assert_error(response, 404, "not_found")
    assert database_snapshot(connection) == before


def test_an_unknown_path_or_method_gets_the_error_format(acme):
    assert_error(acme.tenant.get(f"{API}/nothing-here"), 404, "not_found")
    assert_error(acme.tenant.open("PUT", f"{API}/organisations", json={}), 405)
    assert_error(acme.tenant.delete(f"{API}/organisations"), 405)


ODD_VALUES = [None, 0, -1, 10**30, 1.5, True, "", " ", "\x00", "a\x00b", "x" * 5000, "😀", [], {}]
ODD_BODIES = ["[]", '"text"', "0", "null", "[{}]", '{"": ""}', '{"a": {"b": [null]}}']


def _assert_handled(response, where) -> None:
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def test_no_odd_body_is_answered_with_500(app, client, acme):
    for rule, method in json_body_operations(app, client):
        path = own_path(rule, acme)
        valid = VALID_BODIES[(method, rule.rule)](acme)
        for text in ODD_BODIES:
            response = acme.tenant.open(method, path, data=text, content_type="application/json")
            _assert_handled(response, (method, path, text))
        _assert_handled(acme.tenant.open(method, path), (method, path, "no body"))
        fields = set(valid)
        for _, schema in argument_schemas(app, rule, method):
            fields |= set(schema().fields)
        for name in sorted(fields):
            for value in ODD_VALUES:
                payload = {**valid, name: value}
                response = acme.tenant.open(method, path, json=payload)
                _assert_handled(response, (method, path, payload))


# Lists of objects the valid bodies leave out, with one valid object each.
NESTED_EXAMPLES = {
    "auto_replies": {"keyword": "install", "reply": "Soon"},
    "blocked_words": {"word": "refund", "action": "warn"},
}


def test_no_odd_value_inside_a_list_of_objects_is_answered_with_500(app, client, acme):
    """Order items and template rules: each key of a nested object gets every odd value."""
    checked = set()
    for rule, method in json_body_operations(app, client):
        path = own_path(rule, acme)
        valid = VALID_BODIES[(method, rule.rule)](acme)
        accepted = {
            name for _, schema in argument_schemas(app, rule, method) for name in schema().fields
        }
        lists = {
            name: value[0]
            for name, value in valid.items()
            if isinstance(value, list) and value and isinstance(value[0], dict)
        }
        lists |= {name: obj for name, obj in NESTED_EXAMPLES.items() if name in accepted}
        for name, obj in lists.items():
            checked.add(name)
            for key in sorted(obj):
                for odd in ODD_VALUES:
                    payload = {**valid, name: [{**obj, key: odd}]}
                    response = acme.tenant.open(method, path, json=payload)
                    _assert_handled(response, (method, path, payload))
    assert checked >= {"items", "auto_replies", "blocked_words"}


def _import_row(**changes) -> dict:
    row = {
        "custom_id": "D-200",
        "kind": "dealer",
        "name": "Jiading Store",
        "groups": ["East/Jiading"],
        "members": [{"name": "Zhou", "role": "sales", "mobile": "13811112222"}],
    }
    return {**row, **changes}


def test_no_odd_import_row_is_answered_with_500(acme):
    rows = [_import_row(**{key: value}) for key in _import_row() for value in ODD_VALUES]
    member = _import_row()["members"][0]
    rows += [
        _import_row(members=[{**member, key: value}])
        for key in ("name", "role", "mobile", "email")
        for value in ODD_VALUES
    ]
    rows += [value for value in ODD_VALUES if not isinstance(value, dict)]
    for row in rows:
        response = acme.tenant.post(f"{API}/imports", json={"organisations": [row]})
        _assert_handled(response, row)


ODD_CSV = [
    "",
    "custom_id,kind,name\n",
    "kind,name\nx,y\n",
    'custom_id,kind,name\n"D-1,dealer,Unclosed\n',
    "custom_id,kind,name\nD-1,dealer,Nul\x00Store\n",
    "custom_id,kind,name,groups\nD-1,dealer,Deep," + "/".join("abcdefghijkl") + "\n",
    "custom_id,kind,name,member_name,member_role,member_mobile,member_email\n"
    "D-1,dealer,Store,,,,\nD-1,factory,Store,Li,boss,1,@\n",
    "custom_id,kind,name,extra\nD-1,dealer,Store,1,2,3\n",
    "custom_id,kind,name\n" + "D-1,dealer," + "x" * 10_000 + "\n",
]


def test_no_odd_csv_is_answered_with_500(acme):
    for text in ODD_CSV:
        response = acme.tenant.post(f"{API}/imports", data=text, content_type="text/csv")
        _assert_handled(response, text[:80])
    response = acme.tenant.post(
        f"{API}/imports",
        data=b"custom_id,kind,name\nD-9,dealer,\xff\xfe\n",
        content_type="text/csv",
    )
    _assert_handled(response, "invalid UTF-8")


ODD_QUERY_VALUES = ["", "\x00", "abc", "-1", "99999999999999999999", "😀", "%", new_uuid()]


def test_no_odd_query_string_is_answered_with_500(app, acme):
    for rule, method in api_operations(app):
        if method != "GET":
            continue
        names = {"cursor", "limit"}
        for _, schema in argument_schemas(app, rule, method):
            names |= set(schema().fields)
        for name in sorted(names):
            for value in ODD_QUERY_VALUES:
                response = acme.tenant.get(own_path(rule, acme), query_string={name: value})
                _assert_handled(response, (rule.rule, name, value))


def test_a_refused_organisation_is_not_half_created(acme, connection):
    before = database_snapshot(connection)
    response = acme.tenant.post(
        f"{API}/organisations",
        json={"kind": "factory", "name": "Ghost Works", "group_ids": [acme.east_id, new_uuid()]},
    )
    assert bad_fields(response) == {"group_ids"}
    assert database_snapshot(connection) == before
    names = [o["name"] for o in body(acme.tenant.get(f"{API}/organisations"))["items"]]
    assert "Ghost Works" not in names


def test_a_refused_update_leaves_every_field_as_it_was(acme, connection):
    before = database_snapshot(connection)
    response = acme.tenant.patch(
        f"{API}/organisations/{acme.dealer_id}",
        json={"name": "Renamed", "custom_id": "D-NEW", "group_ids": [new_uuid()]},
    )
    assert bad_fields(response) == {"group_ids"}
    assert database_snapshot(connection) == before
    dealer = body(acme.tenant.get(f"{API}/organisations/{acme.dealer_id}"))
    assert (dealer["name"], dealer["custom_id"]) == ("Acme Pudong Store", "D-001")
    assert dealer["group_ids"] == [acme.shanghai_id]


def test_a_refused_member_is_not_created(acme, connection):
    before = database_snapshot(connection)
    response = acme.tenant.post(
        f"{API}/organisations/{acme.dealer_id}/members",
        json={"name": "Ghost", "role": "sales", "mobile": "+86 100"},
    )
    assert bad_fields(response) == {"mobile"}
    assert database_snapshot(connection) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/organisations?kinds=dealer",
        "/api/v1/directory?viewer=someone",
        "/api/v1/directory-groups?parent=x",
        "/api/v1/visibility-rules?limt=5",
        "/api/v1/customers?dealer=x",
        "/api/v1/orders?reference=SO-1",
        "/api/v1/groups?owner_member_id=x",
        "/api/v1/group-templates?directory_group_id=x",
    ],
)
def test_a_misspelt_query_parameter_is_refused_naming_it(acme, path):
    response = acme.tenant.get(path)
    assert response.status_code == 422
    misspelt = path.split("?")[1].split("=")[0]
    assert misspelt in response.get_json()["error"]["details"]["fields"]
