"""Bulk imports, as JSON and as CSV: per-row results and errors, idempotent on custom_id."""

from __future__ import annotations

from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)

IMPORTS = f"{API}/imports"

GOOD_ROWS = [
    {
        "custom_id": "D-001",
        "kind": "dealer",
        "name": "Pudong Store",
        "groups": ["East/Shanghai/Pudong", "Flagship"],
        "members": [
            {"name": "Li Wei", "role": "service_specialist", "mobile": "138 1234 5678"},
            {"name": "Wang Fang", "role": "designer", "email": "Wang.Fang@example.com"},
        ],
    },
    {"custom_id": "F-001", "kind": "factory", "name": "Panel Works", "groups": ["Production"]},
]

CSV = (
    "custom_id,kind,name,groups,member_name,member_role,member_mobile,member_email\n"
    "D-001,dealer,Pudong Store,East/Shanghai/Pudong;Flagship,Li Wei,service_specialist,"
    "13812345678,\n"
    "D-001,dealer,Pudong Store,East/Shanghai/Pudong;Flagship,Wang Fang,designer,,"
    "wang.fang@example.com\n"
    "F-001,factory,Panel Works,Production,,,,\n"
)


def organisations(tenant) -> dict[str, dict]:
    items = body(tenant.get(f"{API}/organisations", query_string={"limit": 500}))["items"]
    return {o["custom_id"]: o for o in items if o["custom_id"]}


def members_of(tenant, organisation_id) -> list[dict]:
    url = f"{API}/organisations/{organisation_id}/members"
    return body(tenant.get(url, query_string={"limit": 500}))["items"]


def assert_imported(tenant, result) -> None:
    """What GOOD_ROWS and CSV both describe is in the chain."""
    orgs = organisations(tenant)
    assert set(orgs) == {"D-001", "F-001"}
    assert [r["organisation_id"] for r in result["results"]] == [
        orgs["D-001"]["id"],
        orgs["F-001"]["id"],
    ]
    assert orgs["F-001"]["kind"] == "factory"
    paths = {g["id"]: g["path"] for g in body(tenant.get(f"{API}/directory-groups"))["items"]}
    assert sorted(paths[g] for g in orgs["D-001"]["group_ids"]) == [
        "East/Shanghai/Pudong",
        "Flagship",
    ]
    assert {"East", "East/Shanghai", "Production"} <= set(paths.values())
    people = {(m["name"], m["role"], m["mobile"], m["email"])
              for m in members_of(tenant, orgs["D-001"]["id"])}  # fmt: skip
    assert people == {
        ("Li Wei", "service_specialist", "+8613812345678", None),
        ("Wang Fang", "designer", None, "wang.fang@example.com"),
    }


def test_a_json_import_creates_organisations_members_and_groups(tenant):
    result = body(tenant.post(IMPORTS, json={"organisations": GOOD_ROWS}), 201)
    assert (result["rows"], result["created"], result["failed"]) == (2, 2, 0)
    assert result["errors"] == []
    assert [(r["row"], r["custom_id"], r["status"]) for r in result["results"]] == [
        (1, "D-001", "created"),
        (2, "F-001", "created"),
    ]
    assert result["source"] == "api:json"
    assert_imported(tenant, result)


def test_a_csv_import_creates_the_same(tenant):
    response = tenant.post(IMPORTS, data=CSV.encode(), content_type="text/csv; charset=utf-8")
    result = body(response, 201)
    assert result["source"] == "api:csv"
    assert [(r["row"], r["custom_id"], r["status"]) for r in result["results"]] == [
        (2, "D-001", "created"),
        (4, "F-001", "created"),
    ]
    assert result["errors"] == []
    assert_imported(tenant, result)


def test_the_same_json_again_changes_nothing(tenant):
    body(tenant.post(IMPORTS, json={"organisations": GOOD_ROWS}), 201)
    before = (organisations(tenant), body(tenant.get(f"{API}/directory")))
    again = body(tenant.post(IMPORTS, json={"organisations": GOOD_ROWS}), 201)
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert (organisations(tenant), body(tenant.get(f"{API}/directory"))) == before


def test_the_same_csv_again_changes_nothing(tenant):
    body(tenant.post(IMPORTS, data=CSV, content_type="text/csv"), 201)
    before = (organisations(tenant), body(tenant.get(f"{API}/directory")))
    again = body(tenant.post(IMPORTS, data=CSV, content_type="text/csv"), 201)
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged"]
    assert (organisations(tenant), body(tenant.get(f"{API}/directory"))) == before


def test_a_changed_row_is_updated_in_place(tenant):
    body(tenant.post(IMPORTS, json={"organisations": GOOD_ROWS}), 201)
    changed = [
        {**GOOD_ROWS[0], "name": "Pudong Flagship",
         "members": [{"name": "Li Wei", "role": "admin", "mobile": "13812345678"}]},
        GOOD_ROWS[1],
    ]  # fmt: skip
    result = body(tenant.post(IMPORTS, json={"organisations": changed}), 201)
    assert [r["status"] for r in result["results"]] == ["updated", "unchanged"]
    dealer = organisations(tenant)["D-001"]
    assert dealer["name"] == "Pudong Flagship"
    roles = {m["name"]: m["role"] for m in members_of(tenant, dealer["id"])}
    assert roles == {"Li Wei": "admin", "Wang Fang": "designer"}  # matched by mobile


def test_json_errors_name_the_row_and_field_and_good_rows_still_go_in(tenant):
    rows = [
        {"custom_id": "D-001", "kind": "dealer", "name": "Good"},
        {"custom_id": "D-002", "kind": "shop", "name": "Bad kind"},
        {
            "custom_id": "D-003",
            "kind": "dealer",
            "name": "One bad contact",
            "members": [
                {"name": "Ok", "role": "sales", "mobile": "13812345678"},
                {"name": "Bad", "role": "sales", "mobile": "12345"},
                {"name": "Worse", "role": "boss"},
            ],
        },
        {"custom_id": "D-001", "kind": "dealer", "name": "Twice"},
        {"kind": "dealer", "name": "No custom_id"},
        "not an object",
        {"custom_id": "D-007", "kind": "dealer", "name": "Bad path", "groups": ["East//x"]},
    ]
    result = body(tenant.post(IMPORTS, json={"organisations": rows}), 201)
    assert [r["status"] for r in result["results"]] == [
        "created", "failed", "created", "failed", "failed", "failed", "failed",
    ]  # fmt: skip
    problems = {(e["row"], e["field"]) for e in result["errors"]}
    assert problems == {
        (2, "kind"),
        (3, "members[2].mobile"),
        (3, "members[3].role"),
        (4, "custom_id"),
        (5, "custom_id"),
        (6, "_row"),
        (7, "groups"),
    }
    assert all(e["reason"] for e in result["errors"])
    assert (result["rows"], result["created"], result["failed"]) == (7, 2, 5)
    assert set(organisations(tenant)) == {"D-001", "D-003"}
    assert [m["name"] for m in members_of(tenant, organisations(tenant)["D-003"]["id"])] == ["Ok"]

    stored = body(tenant.get(f"{IMPORTS}/{result['id']}"))
    assert stored["errors"] == result["errors"]
    assert (stored["rows"], stored["created"], stored["failed"]) == (7, 2, 5)
    assert "results" not in stored


def test_csv_errors_name_the_line_and_column(tenant):
    text = (
        "custom_id,kind,name,groups,member_name,member_role,member_mobile,member_email\n"
        "D-001,dealer,Good,,Li,sales,13812345678,\n"
        "D-001,dealer,Good,,Wang,sales,12345,\n"
        "D-002,shop,Bad kind,,,,,\n"
        "D-003,dealer,Bad email,,Zhou,sales,,not-an-email\n"
    )
    result = body(tenant.post(IMPORTS, data=text, content_type="text/csv"), 201)
    assert [(r["row"], r["status"]) for r in result["results"]] == [
        (2, "created"),
        (4, "failed"),
        (5, "created"),
    ]
    assert {(e["row"], e["custom_id"], e["field"]) for e in result["errors"]} == {
        (3, "D-001", "member_mobile"),
        (4, "D-002", "kind"),
        (5, "D-003", "member_email"),
    }


def test_an_email_used_elsewhere_is_a_row_error(tenant):
    dealer = body(tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": "D"}), 201)
    member = {"name": "Li", "role": "sales", "email": "li@example.com"}
    body(tenant.post(f"{API}/organisations/{dealer['id']}/members", json=member), 201)
    row = {"custom_id": "D-9", "kind": "dealer", "name": "Other",
           "members": [{"name": "Li", "role": "sales", "email": "LI@example.com"}]}  # fmt: skip
    result = body(tenant.post(IMPORTS, json={"organisations": [row]}), 201)
    assert [(e["row"], e["field"]) for e in result["errors"]] == [(1, "members[1].email")]
    assert members_of(tenant, result["results"][0]["organisation_id"]) == []


def test_an_email_used_in_another_chain_imports_as_if_unused(tenant, other_tenant):
    dealer = body(tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": "D"}), 201)
    member = {"name": "Li", "role": "sales", "email": "li@example.com"}
    body(tenant.post(f"{API}/organisations/{dealer['id']}/members", json=member), 201)
    row = {"custom_id": "D-9", "kind": "dealer", "name": "Other",
           "members": [{"name": "Li", "role": "sales", "email": "LI@example.com"}]}  # fmt: skip

    result = body(other_tenant.post(IMPORTS, json={"organisations": [row]}), 201)

    assert result["errors"] == []
    members = members_of(other_tenant, result["results"][0]["organisation_id"])
    assert [m["email"] for m in members] == ["li@example.com"]


def test_a_csv_without_its_required_columns_is_refused(tenant):
    response = tenant.post(IMPORTS, data="kind,name\ndealer,X\n", content_type="text/csv")
    assert bad_fields(response) == {"header"}
    assert body(tenant.get(IMPORTS))["items"] == []


def test_past_imports_are_listed_and_read(tenant):
    first = body(tenant.post(IMPORTS, json={"organisations": GOOD_ROWS}), 201)
    second = body(tenant.post(IMPORTS, data=CSV, content_type="text/csv"), 201)
    listed = body(tenant.get(IMPORTS))["items"]
    assert [i["id"] for i in listed] == [first["id"], second["id"]]
    read = body(tenant.get(f"{IMPORTS}/{second['id']}"))
    assert read == {k: v for k, v in second.items() if k != "results"}
    assert listed[1] == read
    assert_error(tenant.get(f"{IMPORTS}/00000000-0000-7000-8000-000000000000"), 404, "not_found")


def test_a_body_that_is_neither_json_nor_csv_is_refused(tenant):
    response = tenant.post(IMPORTS, data="custom_id=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    assert body(tenant.get(IMPORTS))["items"] == []


def test_nul_characters_in_json_refuse_the_import_naming_each_field(tenant, connection):
    # Text no column can hold is refused before any row is read, as in every JSON body.
    rows = [
        {"custom_id": "D-1\x00", "kind": "dealer", "name": "Nul id"},
        {"custom_id": "D-2", "kind": "dealer", "name": "Nul group", "groups": ["East/\x00"]},
        {"custom_id": "D-3", "kind": "dealer", "name": "Nul contact",
         "members": [{"name": "Li", "role": "sales", "email": "li\x00@example.com"}]},
    ]  # fmt: skip
    before = database_snapshot(connection)
    assert bad_fields(tenant.post(IMPORTS, json={"organisations": rows})) == {
        "organisations[0].custom_id",
        "organisations[1].groups[0]",
        "organisations[2].members[0].email",
    }
    assert database_snapshot(connection) == before


def test_nul_characters_in_a_csv_file_are_row_errors(tenant):
    csv = "custom_id,kind,name\nD-4,dealer,Nul\x00Store\n"
    result = body(tenant.post(IMPORTS, data=csv, content_type="text/csv"), 201)
    assert [(e["row"], e["field"]) for e in result["errors"]] == [(2, "name")]
