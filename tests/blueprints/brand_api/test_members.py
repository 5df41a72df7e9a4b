from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import API, assert_error, bad_fields, body


@pytest.fixture
def dealer_id(tenant) -> str:
    dealer = tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": "Pudong Store"})
    return body(dealer, 201)["id"]


def add(tenant, organisation_id, **fields):
    return tenant.post(f"{API}/organisations/{organisation_id}/members", json=fields)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_a_mobile_is_stored_in_e164(tenant, dealer_id, given, stored):
    member = body(add(tenant, dealer_id, name="Li Wei", role="sales", mobile=given), 201)
    assert member["mobile"] == stored
    assert body(tenant.get(f"{API}/members/{member['id']}"))["mobile"] == stored


def test_a_member_is_added_and_read_back(tenant, dealer_id):
    member = body(
        add(tenant, dealer_id, name=" Li Wei ", role="service_specialist",
            email="Li.Wei@Example.COM", password="correct horse"),
        201,
    )  # fmt: skip
    assert member["organisation_id"] == dealer_id
    assert member["name"] == "Li Wei"
    assert member["role"] == "service_specialist"
    assert member["email"] == "li.wei@example.com"
    assert member["mobile"] is None
    assert member["can_log_in"] is True
    assert "password" not in member and "password_hash" not in member
    assert body(tenant.get(f"{API}/members/{member['id']}")) == member
    listed = body(tenant.get(f"{API}/organisations/{dealer_id}/members"))["items"]
    assert listed == [member]


@pytest.mark.parametrize(
    "mobile", ["12345", "1381234567", "+86 000 0000 0000", "call me", "+999 1"]
)
def test_an_invalid_mobile_is_refused_naming_mobile(tenant, dealer_id, mobile):
    assert bad_fields(add(tenant, dealer_id, name="Li", role="sales", mobile=mobile)) == {"mobile"}
    assert body(tenant.get(f"{API}/organisations/{dealer_id}/members"))["items"] == []


def test_an_email_in_use_is_a_conflict_whatever_its_case(tenant, dealer_id):
    first = body(add(tenant, dealer_id, name="Li", role="sales", email="li@example.com"), 201)
    error = assert_error(
        add(tenant, dealer_id, name="Li 2", role="sales", email="LI@Example.com"), 409, "conflict"
    )
    assert "email" in error["details"]["fields"]
    second = body(add(tenant, dealer_id, name="Wang", role="sales"), 201)
    assert_error(
        tenant.patch(f"{API}/members/{second['id']}", json={"email": "li@example.com"}), 409
    )
    # Once the member is removed, the address is free again.
    assert tenant.delete(f"{API}/members/{first['id']}").status_code == 204
    body(add(tenant, dealer_id, name="Li 3", role="sales", email="li@example.com"), 201)


def test_an_email_used_in_another_chain_is_accepted_without_a_hint(tenant, other_tenant, dealer_id):
    ours = add(tenant, dealer_id, name="Li", role="sales", email="li@example.com")
    rival_dealer = body(
        other_tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": "R"}), 201
    )
    unused = add(other_tenant, rival_dealer["id"], name="Ma", role="sales", email="ma@example.com")
    theirs = add(other_tenant, rival_dealer["id"], name="Li", role="sales", email="LI@example.com")

    assert theirs.status_code == ours.status_code == unused.status_code == 201
    # The answer for a used address has the shape of one for an unused address: nothing more.
    assert set(theirs.get_json()) == set(unused.get_json())
    assert theirs.get_json()["email"] == "li@example.com"
    renamed = other_tenant.patch(
        f"{API}/members/{unused.get_json()['id']}", json={"email": "li2@example.com"}
    )
    assert renamed.status_code == 200


def test_patch_changes_what_is_given_and_null_clears(tenant, dealer_id):
    member = body(
        add(tenant, dealer_id, name="Li", role="sales", mobile="13812345678",
            email="li@example.com"),
        201,
    )  # fmt: skip
    url = f"{API}/members/{member['id']}"
    renamed = body(tenant.patch(url, json={"name": "Li Wei", "role": "designer"}))
    assert (renamed["name"], renamed["role"]) == ("Li Wei", "designer")
    assert (renamed["mobile"], renamed["email"]) == ("+8613812345678", "li@example.com")

    cleared = body(tenant.patch(url, json={"mobile": None}))
    assert cleared["mobile"] is None
    assert cleared["email"] == "li@example.com"
    assert body(tenant.get(url))["mobile"] is None

    cleared = body(tenant.patch(url, json={"email": None, "mobile": "+8613900001111"}))
    assert (cleared["email"], cleared["mobile"]) == (None, "+8613900001111")
    assert bad_fields(tenant.patch(url, json={"name": None})) == {"name"}
    assert bad_fields(tenant.patch(url, json={"mobile": "123"})) == {"mobile"}
    assert body(tenant.get(url))["mobile"] == "+8613900001111"


def test_a_deleted_member_is_gone_from_every_read(tenant, dealer_id):
    member = body(add(tenant, dealer_id, name="Li", role="sales"), 201)
    keep = body(add(tenant, dealer_id, name="Wang", role="sales"), 201)
    url = f"{API}/members/{member['id']}"
    assert tenant.delete(url).status_code == 204
    assert_error(tenant.get(url), 404, "not_found")
    assert_error(tenant.patch(url, json={"name": "Back"}), 404)
    assert_error(tenant.delete(url), 404)
    listed = body(tenant.get(f"{API}/organisations/{dealer_id}/members"))["items"]
    assert [m["id"] for m in listed] == [keep["id"]]
    directory = body(tenant.get(f"{API}/directory"))["items"]
    assert [entry["id"] for entry in directory] == [keep["id"]]


def test_members_of_an_unknown_organisation_are_404(tenant):
    missing = "00000000-0000-7000-8000-000000000000"
    assert_error(add(tenant, missing, name="Li", role="sales"), 404, "not_found")
    assert_error(tenant.get(f"{API}/organisations/{missing}/members"), 404)
