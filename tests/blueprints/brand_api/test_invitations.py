from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from service.chain.invitations import open_invitation
from tests.blueprints.brand_api.chain_world import API, bad_fields, body


def test_an_invitation_shows_its_code_and_url_once(tenant, session):
    group = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    now = datetime.now(UTC)
    with time_machine.travel(now, tick=False):
        created = body(
            tenant.post(
                f"{API}/invitations",
                json={"kind": "factory", "expires_in_hours": 48, "group_ids": [group["id"]]},
            ),
            201,
        )
    code = created["code"]
    assert len(code) >= 20
    assert created["url"] == f"https://chain.example/portal/join/{code}"
    assert created["kind"] == "factory"
    assert created["status"] == "pending"
    assert created["group_ids"] == [group["id"]]
    assert datetime.fromisoformat(created["expires_at"]) == now + timedelta(hours=48)
    assert created["accepted_at"] is None and created["organisation_id"] is None
    # The code is real: it opens this invitation.
    assert str(open_invitation(session, code).id) == created["id"]
    session.commit()

    response = tenant.get(f"{API}/invitations")
    listed = body(response)["items"]
    assert [i["id"] for i in listed] == [created["id"]]
    assert listed[0]["status"] == "pending"
    assert "code" not in listed[0] and "url" not in listed[0]
    assert code not in response.get_data(as_text=True)


def test_an_invitation_expires_after_72_hours_by_default(tenant):
    now = datetime.now(UTC)
    with time_machine.travel(now, tick=False):
        created = body(tenant.post(f"{API}/invitations", json={"kind": "dealer"}), 201)
    assert datetime.fromisoformat(created["expires_at"]) == now + timedelta(hours=72)
    with time_machine.travel(now + timedelta(hours=72, seconds=1), tick=False):
        listed = body(tenant.get(f"{API}/invitations"))["items"]
    assert listed[0]["status"] == "expired"


def test_each_invitation_has_its_own_code(tenant):
    codes = {
        body(tenant.post(f"{API}/invitations", json={"kind": "dealer"}), 201)["code"]
        for _ in range(3)
    }
    assert len(codes) == 3


def test_an_invitation_for_a_brand_or_an_unknown_group_is_refused(tenant):
    assert bad_fields(tenant.post(f"{API}/invitations", json={"kind": "brand"})) == {"kind"}
    unknown = {"kind": "dealer", "group_ids": ["00000000-0000-7000-8000-000000000000"]}
    assert bad_fields(tenant.post(f"{API}/invitations", json=unknown)) == {"group_ids"}
    assert body(tenant.get(f"{API}/invitations"))["items"] == []
