"""Bulk import: every row stands alone, errors name row and field, and a re-run changes nothing."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.chain.directory_groups import ensure_path
from service.chain.import_files import rows_from_csv, rows_from_json
from service.chain.imports import list_imports, run_import
from service.chain.members import add_member
from service.chain.models import (
    DirectoryGroup,
    Import,
    Member,
    Organisation,
    OrganisationGroup,
)
from service.chain.organisations import add_organisation, remove_organisation
from service.db import get_in_chain
from service.errors import Invalid, NotFound

GOOD = [
    {
        "custom_id": "D-1",
        "kind": "dealer",
        "name": "Pudong Store",
        "groups": ["Dealers/East/Shanghai"],
        "members": [
            {
                "name": "Li Na",
                "role": "admin",
                "mobile": "13812345601",
                "email": "li.na@pudong.example",
            },
            {"name": "Wang Fang", "role": "designer", "mobile": "138 1234 5602"},
        ],
    },
    {
        "custom_id": "D-2",
        "kind": "dealer",
        "name": "Tianhe Store",
        "groups": ["Dealers/South"],
        "members": [{"name": "Zhao Lei", "role": "installer", "email": "Zhao@Tianhe.example"}],
    },
    {
        "custom_id": "F-1",
        "kind": "factory",
        "name": "Foshan Works",
        "groups": ["Production bases"],
    },
]

CSV = """\
custom_id,kind,name,groups,member_name,member_role,member_mobile,member_email
D-1,dealer,Pudong Store,Dealers/East/Shanghai;VIP,Li Na,admin,13812345601,li.na@pudong.example
D-1,dealer,Pudong Store,Dealers/East/Shanghai;VIP,Wang Fang,designer,13812345602,
D-2,dealer,"Tianhe Store, Guangzhou",Dealers/South,Bad Contact,admin,12345,
D-3,shop,Bad Row,,,,,
D-2,dealer,"Tianhe Store, Guangzhou",Dealers/South,Zhao Lei,installer,,zhao@tianhe.example
F-1,factory,Foshan Works,Production bases,,,,
"""

TABLES = (Organisation, Member, OrganisationGroup, DirectoryGroup)


def run(session, chain, rows, source="test.json"):
    # A copy: the constants above serve many tests.
    rows = rows_from_json(copy.deepcopy(rows))
    return run_import(session, chain_id=chain.id, rows=rows, source=source)


def statuses(results) -> dict:
    return {result["row"]: result["status"] for result in results}


def counts(rows) -> dict:
    return {model.__name__: rows(model) for model in TABLES}


def organisation(session, chain, custom_id) -> Organisation:
    return session.scalars(
        select(Organisation).where(
            Organisation.chain_id == chain.id,
            Organisation.custom_id == custom_id,
            Organisation.removed_at.is_(None),
        )
    ).one()


def members_of(session, chain, custom_id) -> dict[str, Member]:
    found = session.scalars(
        select(Member).where(
            Member.organisation_id == organisation(session, chain, custom_id).id,
            Member.removed_at.is_(None),
        )
    )
    return {member.name: member for member in found}


def group_paths(session, chain, custom_id) -> list[str]:
    org = organisation(session, chain, custom_id)
    session.refresh(org)
    return [group.path for group in org.groups]


# A clean import


def test_import_creates_organisations_members_and_group_tree(session, acme):
    record, results = run(session, acme, GOOD)

    assert statuses(results) == {1: "created", 2: "created", 3: "created"}
    assert (record.rows, record.created, record.updated, record.unchanged, record.failed) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert record.errors == []
    assert organisation(session, acme, "F-1").kind == "factory"
    assert {r["organisation_id"] for r in results} == {
        organisation(session, acme, cid).id for cid in ("D-1", "D-2", "F-1")
    }
    pudong = members_of(session, acme, "D-1")
    assert {name: (m.role, m.mobile, m.email) for name, m in pudong.items()} == {
        "Li Na": ("admin", "+8613812345601", "li.na@pudong.example"),
        "Wang Fang": ("designer", "+8613812345602", None),
    }
    assert members_of(session, acme, "D-2")["Zhao Lei"].email == "zhao@tianhe.example"
    assert group_paths(session, acme, "D-1") == ["Dealers/East/Shanghai"]
    assert group_paths(session, acme, "F-1") == ["Production bases"]
    tree = set(
        session.scalars(select(DirectoryGroup.path).where(DirectoryGroup.chain_id == acme.id))
    )
    assert tree == {
        "Dealers",
        "Dealers/East",
        "Dealers/East/Shanghai",
        "Dealers/South",
        "Production bases",
    }


def test_group_paths_reuse_existing_groups(session, acme):
    east, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")

    run(session, acme, [{**GOOD[0], "groups": ["Dealers/East", "/Dealers/East/ "]}])

    assert organisation(session, acme, "D-1").groups == [east]


def test_rerunning_the_same_input_changes_nothing(session, acme, rows):
    run(session, acme, GOOD)
    before = counts(rows)

    record, results = run(session, acme, GOOD)

    assert statuses(results) == {1: "unchanged", 2: "unchanged", 3: "unchanged"}
    assert (record.created, record.updated, record.unchanged, record.failed) == (0, 0, 3, 0)
    assert counts(rows) == before


def test_rerunning_the_same_csv_changes_nothing(session, acme, rows):
    run_import(session, chain_id=acme.id, rows=rows_from_csv(CSV), source="a.csv")
    before = counts(rows)

    _, results = run_import(session, chain_id=acme.id, rows=rows_from_csv(CSV), source="a.csv")

    assert statuses(results) == {2: "unchanged", 4: "unchanged", 5: "failed", 7: "unchanged"}
    assert counts(rows) == before


# Bad rows and bad contacts


def test_bad_row_and_bad_contact_are_reported_and_everything_else_goes_in(session, acme):
    rows = copy.deepcopy(GOOD)
    rows[1]["members"].insert(0, {"name": "Bad Contact", "role": "admin", "mobile": "12345"})
    rows.insert(2, {"custom_id": "D-3", "kind": "shop", "name": "Bad Row"})

    record, results = run(session, acme, rows)

    assert statuses(results) == {1: "created", 2: "created", 3: "failed", 4: "created"}
    assert [(e["row"], e["custom_id"], e["field"]) for e in record.errors] == [
        (2, "D-2", "members[1].mobile"),
        (3, "D-3", "kind"),
    ]
    assert all(error["reason"] for error in record.errors)
    assert set(members_of(session, acme, "D-2")) == {"Zhao Lei"}
    assert set(members_of(session, acme, "D-1")) == {"Li Na", "Wang Fang"}
    assert organisation(session, acme, "F-1").name == "Foshan Works"
    assert session.scalar(select(Organisation).where(Organisation.custom_id == "D-3")) is None
    assert (record.created, record.failed) == (3, 1)


def test_csv_reports_errors_by_line_number_and_column(session, acme):
    record, results = run_import(
        session, chain_id=acme.id, rows=rows_from_csv(CSV), source="dealers.csv"
    )

    assert statuses(results) == {2: "created", 4: "created", 5: "failed", 7: "created"}
    assert [(e["row"], e["custom_id"], e["field"]) for e in record.errors] == [
        (4, "D-2", "member_mobile"),
        (5, "D-3", "kind"),
    ]
    assert set(members_of(session, acme, "D-1")) == {"Li Na", "Wang Fang"}
    assert set(members_of(session, acme, "D-2")) == {"Zhao Lei"}
    assert organisation(session, acme, "D-2").name == "Tianhe Store, Guangzhou"
    assert group_paths(session, acme, "D-1") == ["Dealers/East/Shanghai", "VIP"]
    assert members_of(session, acme, "F-1") == {}


def test_rows_from_csv_gives_one_row_per_organisation_numbered_by_line():
    rows = rows_from_csv("\ufeff" + CSV)

    assert [(row.row, row.data["custom_id"]) for row in rows] == [
        (2, "D-1"),
        (4, "D-2"),
        (5, "D-3"),
        (7, "F-1"),
    ]
    assert [member["_row"] for member in rows[0].data["members"]] == [2, 3]
    assert [member["_row"] for member in rows[1].data["members"]] == [4, 6]
    assert rows[0].data["groups"] == ["Dealers/East/Shanghai", "VIP"]
    assert rows[2].data["members"] == [] and rows[3].data["members"] == []


def test_csv_without_required_columns_is_refused():
    with pytest.raises(Invalid) as raised:
        rows_from_csv("custom_id,name\nD-1,Pudong\n")
    assert "header" in raised.value.details["fields"]


@pytest.mark.parametrize("payload", [None, "rows", {"rows": []}, {"organisations": "x"}, 5])
def test_json_that_is_not_a_list_of_organisations_is_refused(payload):
    with pytest.raises(Invalid):
        rows_from_json(payload)


def test_json_may_be_wrapped_in_an_object():
    rows = rows_from_json({"organisations": [{"custom_id": "a"}, {"custom_id": "b"}]})

    assert [(row.row, row.data["custom_id"]) for row in rows] == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"kind": "dealer", "name": "No id"}, "custom_id"),
        ({"custom_id": "X", "kind": "dealer"}, "name"),
        ({"custom_id": "X", "name": "No kind"}, "kind"),
        ({"custom_id": 7, "kind": "dealer", "name": "Numeric id"}, "custom_id"),
        ({"custom_id": "X", "kind": "dealer", "name": "N", "groups": "East"}, "groups"),
        ({"custom_id": "X", "kind": "dealer", "name": "N", "groups": ["East//A"]}, "groups"),
        ({"custom_id": "X", "kind": "dealer", "name": "N", "members": {"a": 1}}, "members"),
        ({"custom_id": "X", "kind": "dealer", "name": "x" * 201}, "name"),
        ("not an object", "_row"),
    ],
)
def test_bad_organisation_row_names_the_field(session, acme, rows, row, field):
    before = counts(rows)

    record, results = run(session, acme, [row])

    assert statuses(results) == {1: "failed"}
    assert [(e["row"], e["field"]) for e in record.errors] == [(1, field)]
    assert counts(rows) == before


@pytest.mark.parametrize(
    ("member", "field"),
    [
        ({"role": "admin"}, "members[1].name"),
        ({"name": "N", "role": "boss"}, "members[1].role"),
        ({"name": "N", "role": "admin", "mobile": "12"}, "members[1].mobile"),
        ({"name": "N", "role": "admin", "email": "not-an-email"}, "members[1].email"),
        ("Li Na", "members[1]"),
    ],
)
def test_bad_contact_names_its_place_and_field(session, acme, member, field):
    row = {"custom_id": "D-1", "kind": "dealer", "name": "Pudong", "members": [member]}

    record, results = run(session, acme, [row])

    assert statuses(results) == {1: "created"}
    assert [(e["row"], e["custom_id"], e["field"]) for e in record.errors] == [(1, "D-1", field)]
    assert members_of(session, acme, "D-1") == {}


def test_duplicate_custom_id_in_one_file_fails_the_later_row(session, acme):
    rows = [GOOD[0], {**GOOD[1], "custom_id": "D-1"}, GOOD[2]]

    record, results = run(session, acme, rows)

    assert statuses(results) == {1: "created", 2: "failed", 3: "created"}
    assert [(e["row"], e["field"]) for e in record.errors] == [(2, "custom_id")]
    assert "row 1" in record.errors[0]["reason"]
    assert organisation(session, acme, "D-1").name == "Pudong Store"


def test_kind_mismatch_with_an_existing_organisation_fails_the_row(session, acme):
    existing, _ = add_organisation(
        session, chain_id=acme.id, kind="factory", name="Old Works", custom_id="D-1"
    )

    record, results = run(session, acme, GOOD)

    assert statuses(results) == {1: "failed", 2: "created", 3: "created"}
    assert [(e["row"], e["field"]) for e in record.errors] == [(1, "kind")]
    session.refresh(existing)
    assert (existing.kind, existing.name) == ("factory", "Old Works")
    assert members_of(session, acme, "D-1") == {}


def test_email_already_used_by_another_member_is_a_bad_contact(session, acme):
    add_member(
        session,
        chain_id=acme.id,
        organisation_id=acme.brand.id,
        name="Someone Else",
        role="admin",
        email="li.na@pudong.example",
    )

    record, _ = run(session, acme, GOOD)

    assert [(e["row"], e["field"]) for e in record.errors] == [(1, "members[1].email")]
    assert set(members_of(session, acme, "D-1")) == {"Wang Fang"}


def test_email_used_in_another_chain_imports_without_a_hint(session, acme, rival):
    add_member(
        session,
        chain_id=rival.id,
        organisation_id=rival.brand.id,
        name="Someone Else",
        role="admin",
        email="li.na@pudong.example",
    )

    record, _ = run(session, acme, GOOD)

    assert record.errors == []
    assert set(members_of(session, acme, "D-1")) == {"Li Na", "Wang Fang"}


def test_same_email_twice_in_one_file_is_a_bad_contact_the_second_time(session, acme):
    rows = copy.deepcopy(GOOD)
    rows[1]["members"][0]["email"] = "LI.NA@pudong.example"

    record, _ = run(session, acme, rows)

    assert [(e["row"], e["field"]) for e in record.errors] == [(2, "members[1].email")]
    assert members_of(session, acme, "D-1")["Li Na"].email == "li.na@pudong.example"
    assert members_of(session, acme, "D-2") == {}


def test_member_keeping_own_email_on_rerun_is_not_a_conflict(session, acme):
    run(session, acme, GOOD)

    record, _ = run(session, acme, GOOD)

    assert record.errors == []


# Updates


def test_changed_name_is_updated_in_place(session, acme, rows):
    _, first = run(session, acme, GOOD)
    before = counts(rows)
    renamed = copy.deepcopy(GOOD)
    renamed[1]["name"] = "Tianhe Flagship"

    _, results = run(session, acme, renamed)

    assert statuses(results) == {1: "unchanged", 2: "updated", 3: "unchanged"}
    assert results[1]["organisation_id"] == first[1]["organisation_id"]
    assert organisation(session, acme, "D-2").name == "Tianhe Flagship"
    assert counts(rows) == before


def test_new_member_new_group_and_changed_contact_details_update_the_row(session, acme, rows):
    run(session, acme, GOOD)
    before = counts(rows)
    changed = copy.deepcopy(GOOD)
    changed[0]["members"][1]["email"] = "wang.fang@pudong.example"  # matched by mobile
    changed[1]["members"].append({"name": "Chen Jie", "role": "sales"})
    changed[2]["groups"].append("Production bases/North")

    _, results = run(session, acme, changed)

    assert statuses(results) == {1: "updated", 2: "updated", 3: "updated"}
    assert members_of(session, acme, "D-1")["Wang Fang"].email == "wang.fang@pudong.example"
    assert set(members_of(session, acme, "D-2")) == {"Zhao Lei", "Chen Jie"}
    assert group_paths(session, acme, "F-1") == ["Production bases", "Production bases/North"]
    after = counts(rows)
    assert after["Member"] == before["Member"] + 1
    assert after["Organisation"] == before["Organisation"]
    assert after["DirectoryGroup"] == before["DirectoryGroup"] + 1


def test_blank_fields_in_the_file_leave_existing_details_alone(session, acme):
    run(session, acme, GOOD)
    sparse = copy.deepcopy(GOOD[:1])
    sparse[0]["members"] = [{"name": "Li Na", "role": "admin", "mobile": "13812345601"}]

    _, results = run(session, acme, sparse)

    assert statuses(results) == {1: "unchanged"}
    assert members_of(session, acme, "D-1")["Li Na"].email == "li.na@pudong.example"


def test_removed_organisations_custom_id_imports_as_a_new_organisation(session, acme):
    _, first = run(session, acme, GOOD[:1])
    remove_organisation(session, chain_id=acme.id, organisation_id=first[0]["organisation_id"])

    record, results = run(session, acme, GOOD[:1])

    assert statuses(results) == {1: "created"}
    assert results[0]["organisation_id"] != first[0]["organisation_id"]
    # The people left with their organisation: their e-mails are free again.
    assert record.errors == []
    assert set(members_of(session, acme, "D-1")) == {"Li Na", "Wang Fang"}


def test_imports_are_kept_per_chain(session, acme, rival):
    record, _ = run(session, acme, GOOD, source="dealers.json")
    run(session, rival, [{**GOOD[2]}])

    assert get_in_chain(session, Import, acme.id, record.id).source == "dealers.json"
    with pytest.raises(NotFound):
        get_in_chain(session, Import, rival.id, record.id)
    assert [item.id for item in list_imports(session, chain_id=acme.id).items] == [record.id]
    assert organisation(session, rival, "F-1").chain_id == rival.id


def test_chunks_of_a_large_import_see_each_other(session, acme, rows, monkeypatch):
    # The importer works a chunk at a time; a small chunk makes several of a small file.
    monkeypatch.setattr("service.chain.imports.CHUNK", 2)
    many = [
        {"custom_id": f"D-{i}", "kind": "dealer", "name": f"Store {i}", "groups": ["Dealers"]}
        for i in range(5)
    ]
    many.append({**many[0], "name": "Duplicate of row 1"})

    record, results = run(session, acme, many)

    assert [result["status"] for result in results] == ["created"] * 5 + ["failed"]
    assert [(e["row"], e["field"]) for e in record.errors] == [(6, "custom_id")]
    assert rows(DirectoryGroup) == 1


# Junk never raises


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
plausible_member = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=12) | json_values,
        "role": st.sampled_from(["admin", "designer", "boss", ""]) | json_values,
        "mobile": st.sampled_from(["13812345601", "12", "+44 7911 123456"]) | st.text(max_size=16),
        "email": st.sampled_from(["a@b.example", "A@B.example", "x@"]) | st.text(max_size=16),
        "_row": json_values,
    },
)
plausible_row = st.fixed_dictionaries(
    {},
    optional={
        "custom_id": st.sampled_from(["D-1", "D-2", ""]) | json_values,
        "kind": st.sampled_from(["dealer", "factory", "brand"]) | json_values,
        "name": st.text(max_size=30) | json_values,
        "groups": st.lists(st.text(max_size=30), max_size=3) | json_values,
        "members": st.lists(plausible_member | json_values, max_size=3) | json_values,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(plausible_row | json_values, max_size=5))
@example(rows=[{"custom_id": "D-1", "kind": "dealer", "name": "A"}, {}])
@example(rows=[{"custom_id": float("inf")}, {"custom_id": float("nan"), "kind": "dealer"}])
@example(rows=[{"custom_id": "D-1", "kind": "dealer", "name": "A", "members": [{"_row": [1]}]}])
@example(rows=[{"custom_id": "D\x00", "kind": "dealer", "name": "A\x00", "groups": ["\x00"]}])
@example(
    rows=[
        {"custom_id": "D-1", "kind": "dealer", "name": "A", "groups": ["East/\x00"]},
        {"custom_id": "D-2", "kind": "dealer", "name": "B", "members": [{"email": "a\x00@b.c"}]},
    ]
)
def test_junk_rows_are_reported_never_raised(session, acme, rows):
    savepoint = session.begin_nested()
    try:
        record, results = run(session, acme, rows)
        errors = copy.deepcopy(record.errors)
    finally:
        savepoint.rollback()

    assert [result["row"] for result in results] == list(range(1, len(rows) + 1))
    assert {result["status"] for result in results} <= {"created", "updated", "unchanged", "failed"}
    # Every error names a row of this input (the API reports it as an integer), a field, a reason.
    assert all(error["row"] in range(1, len(rows) + 1) for error in errors)
    assert all(isinstance(error["field"], str) and error["reason"] for error in errors)
    failed = {result["row"] for result in results if result["status"] == "failed"}
    assert failed <= {error["row"] for error in errors}
