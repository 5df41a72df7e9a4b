"""A request with several bad fields is answered with all of them in details.fields, in one
shape ({path: [reason, ...]}), whether the schema or the domain found them."""

from __future__ import annotations

from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    database_snapshot,
    new_uuid,
)


def _fields(response) -> dict:
    fields = assert_error(response, 422, "invalid")["details"]["fields"]
    assert all(
        isinstance(reasons, list) and reasons and all(isinstance(r, str) for r in reasons)
        for reasons in fields.values()
    ), fields
    return fields


def test_three_bad_fields_of_a_member_are_named_together(acme, connection):
    before = database_snapshot(connection)
    response = acme.tenant.post(
        f"{API}/organisations/{acme.dealer_id}/members",
        json={"name": "\u200b", "role": "boss", "mobile": "12345"},
    )
    assert set(_fields(response)) == {"name", "role", "mobile"}
    assert database_snapshot(connection) == before


def test_three_bad_fields_of_a_customer_are_named_together(acme):
    response = acme.tenant.post(
        f"{API}/customers",
        json={"name": "\u202e", "mobile": "not a phone", "dealer_id": "x",
              "owner_member_id": acme.dealer_member_id},
    )  # fmt: skip
    assert set(_fields(response)) == {"name", "mobile", "dealer_id"}
    response = acme.tenant.patch(
        f"{API}/customers/{acme.customer_id}",
        json={"name": "", "mobile": "12345", "tags": ["x" * 51]},
    )
    assert set(_fields(response)) == {"name", "mobile", "tags[0]"}


def test_bad_fields_the_domain_finds_are_named_together(acme, connection):
    before = database_snapshot(connection)
    order = {
        "customer_id": new_uuid(),
        "dealer_id": acme.dealer_id,
        "reference": "SO-MANY",
        "items": [
            {"factory_id": new_uuid(), "description": "Door", "quantity": 1},
            {"factory_id": acme.factory_id, "description": "Frame", "quantity": 1,
             "factory_reference": "R-1"},
            {"factory_id": acme.dealer_id, "description": "Panel", "quantity": 1,
             "factory_reference": "R-1"},
        ],
    }  # fmt: skip
    fields = _fields(acme.tenant.post(f"{API}/orders", json=order))
    assert set(fields) == {"customer_id", "items[0].factory_id", "items[2].factory_id"}
    assert database_snapshot(connection) == before


def test_nested_schema_errors_have_the_domains_shape(acme):
    order = {
        "customer_id": acme.customer_id,
        "dealer_id": acme.dealer_id,
        "reference": " ",
        "items": [{"factory_id": acme.factory_id, "description": " ", "quantity": 0}],
    }
    assert bad_fields(acme.tenant.post(f"{API}/orders", json=order)) == {
        "reference",
        "items[0].description",
        "items[0].quantity",
    }
