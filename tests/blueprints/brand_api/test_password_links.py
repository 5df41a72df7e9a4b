"""POST /api/v1/members/{id}/password-link: a one-time link to set a portal password."""

from __future__ import annotations

import re

from tests.blueprints.brand_api.chain_world import API, body


def _member(tenant, **fields):
    dealer = body(
        tenant.post(f"{API}/organisations", json={"kind": "dealer", "name": "Pudong"}), 201
    )
    member = {"name": "Li Na", "role": "designer", "mobile": "13812345601", **fields}
    return body(tenant.post(f"{API}/organisations/{dealer['id']}/members", json=member), 201)


def _csrf(response) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', response.text).group(1)


def test_a_password_link_is_made_once_and_sets_the_password_in_the_portal(tenant, client):
    member = _member(tenant)
    made = body(tenant.post(f"{API}/members/{member['id']}/password-link"), 201)

    assert made["member_id"] == member["id"]
    assert made["url"].startswith("https://chain.example/portal/password/")  # PUBLIC_URL's
    path = made["url"].removeprefix("https://chain.example")
    form = client.get(path)
    assert form.status_code == 200
    data = {"csrf_token": _csrf(form), "password": "a new secret", "confirm": "a new secret"}
    assert client.post(path, data=data).status_code == 302
    assert body(tenant.get(f"{API}/members/{member['id']}"))["can_log_in"] is True
    assert client.get(path).status_code == 410  # once


def test_a_password_links_lifetime_may_be_given(tenant):
    member = _member(tenant)
    made = body(
        tenant.post(f"{API}/members/{member['id']}/password-link", json={"expires_in_hours": 2}),
        201,
    )
    assert made["expires_at"] > made["created_at"]
    refused = tenant.post(
        f"{API}/members/{member['id']}/password-link", json={"expires_in_hours": 0}
    )
    assert refused.status_code == 422


def test_another_chains_key_gets_404_for_a_password_link(tenant, other_tenant):
    member = _member(tenant)
    response = other_tenant.post(f"{API}/members/{member['id']}/password-link")
    assert response.status_code == 404


def test_the_password_link_is_in_the_openapi_document(client):
    document = client.get(f"{API}/openapi.json").get_json()
    operation = document["paths"]["/api/v1/members/{member_id}/password-link"]["post"]
    assert "201" in operation["responses"]
