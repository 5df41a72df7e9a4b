"""Every /api/v1 operation wants `Authorization: Bearer <live key>`, and says so in the one error
format with a WWW-Authenticate header."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.chain.chains import issue_api_key, list_api_keys, revoke_api_key
from tests.blueprints.brand_api.chain_world import (
    API,
    api_operations,
    assert_error,
    database_snapshot,
    fill,
)


def assert_unauthorized(response) -> None:
    assert_error(response, 401, "unauthorized")
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def call_every_operation(app, client, tenant, headers: dict) -> list[str]:
    """Calls every operation with these headers; returns the operations that were not 401.
    Path ids are the tenant's brand: the key is checked before anything is looked up."""
    not_refused = []
    for rule, method in api_operations(app):
        path = fill(rule, dict.fromkeys(rule.arguments, tenant.brand_id))
        response = client.open(path, method=method, headers=headers, json={})
        if response.status_code != 401:
            not_refused.append(f"{method} {rule.rule}: {response.status_code}")
        else:
            assert_unauthorized(response)
    return not_refused


BAD_HEADERS = {
    "missing header": {},
    "empty header": {"Authorization": ""},
    "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "key without scheme": {"Authorization": "cck_abcdefghijklmnopqrstuvwxyz"},
    "bearer without key": {"Authorization": "Bearer "},
    "unknown key": {"Authorization": "Bearer cck_thisKeyWasNeverIssuedToAnyChain000000000"},
    "not a key of ours": {"Authorization": "Bearer sk_live_something"},
}


@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_every_operation_refuses_a_request_without_a_live_key(
    app, client, tenant, connection, headers
):
    before = database_snapshot(connection)
    assert call_every_operation(app, client, tenant, headers) == []
    assert database_snapshot(connection) == before


def test_the_scheme_is_case_insensitive_and_the_key_is_not(client, tenant):
    ok = client.get(f"{API}/organisations", headers={"Authorization": f"bearer {tenant.key}"})
    assert ok.status_code == 200
    upper = client.get(
        f"{API}/organisations", headers={"Authorization": f"Bearer {tenant.key.upper()}"}
    )
    assert_unauthorized(upper)


def test_a_revoked_key_is_refused_everywhere_and_a_live_one_still_works(
    app, client, session, tenant
):
    _, second_key = issue_api_key(session, chain_id=tenant.chain_id, name="second")
    session.commit()
    first = next(key for key in list_api_keys(session, tenant.chain_id) if key.name == "test")
    assert tenant.get(f"{API}/organisations").status_code == 200

    revoke_api_key(session, chain_id=tenant.chain_id, key_id=first.id)
    session.commit()

    assert (
        call_every_operation(app, client, tenant, {"Authorization": f"Bearer {tenant.key}"}) == []
    )
    live = client.get(f"{API}/organisations", headers={"Authorization": f"Bearer {second_key}"})
    assert live.status_code == 200
    assert [o["id"] for o in live.get_json()["items"]] == [str(tenant.brand_id)]


def test_the_401_message_tells_how_to_authenticate(client):
    error = assert_error(client.get(f"{API}/organisations"), 401, "unauthorized")
    assert "Bearer" in error["message"]


def test_a_second_app_in_the_same_process_serves_the_same_api(app, config, client):
    """The blueprints are module-level objects that every app registers again."""
    second = create_app(config)
    try:
        other = second.test_client()
        assert_unauthorized(other.get(f"{API}/organisations"))
        assert (
            other.get(f"{API}/openapi.json").get_json()
            == client.get(f"{API}/openapi.json").get_json()
        )
        assert second.before_request_funcs == app.before_request_funcs
    finally:
        second.extensions["db"].engine.dispose()
