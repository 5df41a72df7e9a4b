from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import time_machine

from service.chain.organisations import active_webhook_secrets
from tests.blueprints.brand_api.chain_world import API, assert_error, bad_fields, body

ORGS = f"{API}/organisations"


def listed(tenant, **query) -> list[dict]:
    return body(tenant.get(ORGS, query_string={"limit": 500, **query}))["items"]


def test_a_dealer_is_added_with_its_groups_and_no_webhook(tenant):
    group = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    dealer = body(
        tenant.post(
            ORGS,
            json={"kind": "dealer", "name": "  Pudong Store ", "custom_id": "D-1",
                  "group_ids": [group["id"]]},
        ),
        201,
    )  # fmt: skip
    assert dealer["kind"] == "dealer"
    assert dealer["name"] == "Pudong Store"
    assert dealer["custom_id"] == "D-1"
    assert dealer["group_ids"] == [group["id"]]
    assert "webhook_url" not in dealer and "webhook_secret" not in dealer
    assert body(tenant.get(f"{ORGS}/{dealer['id']}")) == dealer


def test_a_factory_gets_its_webhook_url_and_secret_once(tenant):
    factory = body(tenant.post(ORGS, json={"kind": "factory", "name": "Panel Works"}), 201)
    secret = factory["webhook_secret"]
    assert secret.startswith("whsec_") and len(secret) > len("whsec_") + 20
    expected_url = f"https://chain.example/webhooks/factories/{factory['id']}/progress"
    assert factory["webhook_url"] == expected_url

    read = tenant.get(f"{ORGS}/{factory['id']}")
    listing = tenant.get(ORGS)
    for response in (read, listing):
        assert response.status_code == 200
        assert secret not in response.get_data(as_text=True)
        assert "webhook_secret" not in response.get_data(as_text=True)
    assert body(read)["webhook_url"] == expected_url
    assert {k: v for k, v in factory.items() if k != "webhook_secret"} == body(read)


def test_two_factories_get_different_secrets(tenant):
    first = body(tenant.post(ORGS, json={"kind": "factory", "name": "A"}), 201)
    second = body(tenant.post(ORGS, json={"kind": "factory", "name": "B"}), 201)
    assert first["webhook_secret"] != second["webhook_secret"]


def test_the_list_starts_with_the_brand_and_filters_by_kind(tenant):
    dealer = body(tenant.post(ORGS, json={"kind": "dealer", "name": "D"}), 201)
    factory = body(tenant.post(ORGS, json={"kind": "factory", "name": "F"}), 201)
    everyone = listed(tenant)
    assert [o["id"] for o in everyone] == [str(tenant.brand_id), dealer["id"], factory["id"]]
    assert everyone[0]["kind"] == "brand" and everyone[0]["name"] == "Acme Home"
    assert [o["id"] for o in listed(tenant, kind="dealer")] == [dealer["id"]]
    assert [o["id"] for o in listed(tenant, kind="factory")] == [factory["id"]]
    assert [o["id"] for o in listed(tenant, kind="brand")] == [str(tenant.brand_id)]


def test_the_group_filter_includes_subgroups_and_nothing_else(tenant):
    pudong = body(tenant.post(f"{API}/directory-groups", json={"path": "East/Shanghai/Pudong"}))
    shanghai_id = pudong["parent_id"]
    east_id = body(tenant.get(f"{API}/directory-groups/{shanghai_id}"))["parent_id"]
    eastern = body(tenant.post(f"{API}/directory-groups", json={"path": "Eastern"}), 201)
    west = body(tenant.post(f"{API}/directory-groups", json={"path": "West"}), 201)

    def add(name, *group_ids):
        organisation = tenant.post(
            ORGS, json={"kind": "dealer", "name": name, "group_ids": list(group_ids)}
        )
        return body(organisation, 201)["id"]

    in_pudong = add("Pudong", pudong["id"])
    in_east = add("East", east_id)
    in_eastern = add("Eastern", eastern["id"])  # a name that starts like East, not below it
    in_west = add("West", west["id"])
    in_both = add("Both", west["id"], shanghai_id)
    add("Nowhere")

    def ids_in(group_id):
        return [o["id"] for o in listed(tenant, group_id=group_id)]

    assert ids_in(east_id) == [in_pudong, in_east, in_both]
    assert ids_in(shanghai_id) == [in_pudong, in_both]
    assert ids_in(pudong["id"]) == [in_pudong]
    assert ids_in(west["id"]) == [in_west, in_both]
    assert ids_in(eastern["id"]) == [in_eastern]
    assert [o["id"] for o in listed(tenant, group_id=east_id, kind="factory")] == []


def test_patch_renames_changes_custom_id_and_replaces_the_groups(tenant):
    east = body(tenant.post(f"{API}/directory-groups", json={"path": "East"}), 201)
    west = body(tenant.post(f"{API}/directory-groups", json={"path": "West"}), 201)
    dealer = body(
        tenant.post(
            ORGS,
            json={"kind": "dealer", "name": "Old", "custom_id": "D-1", "group_ids": [east["id"]]},
        ),
        201,
    )
    patched = body(
        tenant.patch(
            f"{ORGS}/{dealer['id']}",
            json={"name": "New", "custom_id": "D-2", "group_ids": [west["id"]]},
        )
    )
    assert (patched["name"], patched["custom_id"], patched["group_ids"]) == (
        "New",
        "D-2",
        [west["id"]],
    )
    assert body(tenant.get(f"{ORGS}/{dealer['id']}")) == patched
    assert [o["id"] for o in listed(tenant, group_id=east["id"])] == []

    only_name = body(tenant.patch(f"{ORGS}/{dealer['id']}", json={"name": "Newer"}))
    assert (only_name["custom_id"], only_name["group_ids"]) == ("D-2", [west["id"]])
    cleared = body(tenant.patch(f"{ORGS}/{dealer['id']}", json={"group_ids": []}))
    assert cleared["group_ids"] == []


def test_delete_removes_an_organisation_from_every_read(tenant):
    dealer = body(
        tenant.post(ORGS, json={"kind": "dealer", "name": "Gone", "custom_id": "D-1"}), 201
    )
    member = body(
        tenant.post(f"{ORGS}/{dealer['id']}/members", json={"name": "Li", "role": "sales"}), 201
    )
    assert tenant.delete(f"{ORGS}/{dealer['id']}").status_code == 204

    assert dealer["id"] not in [o["id"] for o in listed(tenant)]
    assert_error(tenant.get(f"{ORGS}/{dealer['id']}"), 404, "not_found")
    assert_error(tenant.patch(f"{ORGS}/{dealer['id']}", json={"name": "Back"}), 404)
    assert_error(tenant.delete(f"{ORGS}/{dealer['id']}"), 404)
    assert_error(tenant.get(f"{ORGS}/{dealer['id']}/members"), 404)
    assert_error(tenant.get(f"{API}/members/{member['id']}"), 404)
    directory = body(tenant.get(f"{API}/directory"))["items"]
    assert member["id"] not in [entry["id"] for entry in directory]
    # Its custom_id is free again.
    body(tenant.post(ORGS, json={"kind": "dealer", "name": "Again", "custom_id": "D-1"}), 201)


def test_a_removed_factorys_webhook_secrets_stop_working(tenant, session):
    factory = body(tenant.post(ORGS, json={"kind": "factory", "name": "F"}), 201)
    assert tenant.delete(f"{ORGS}/{factory['id']}").status_code == 204
    assert active_webhook_secrets(session, UUID(factory["id"])) == []
    session.commit()


def test_the_brand_cannot_be_deleted(tenant):
    assert_error(tenant.delete(f"{ORGS}/{tenant.brand_id}"), 409, "conflict")
    assert body(tenant.get(f"{ORGS}/{tenant.brand_id}"))["kind"] == "brand"


def test_a_custom_id_is_unique_in_the_chain(tenant, other_tenant):
    first = body(tenant.post(ORGS, json={"kind": "dealer", "name": "A", "custom_id": "D-1"}), 201)
    second = body(tenant.post(ORGS, json={"kind": "factory", "name": "B", "custom_id": "F-1"}), 201)

    error = assert_error(
        tenant.post(ORGS, json={"kind": "factory", "name": "C", "custom_id": "D-1"}),
        409,
        "conflict",
    )
    assert "custom_id" in error["details"]["fields"]
    assert_error(tenant.patch(f"{ORGS}/{second['id']}", json={"custom_id": "D-1"}), 409)
    assert body(tenant.get(f"{ORGS}/{second['id']}"))["custom_id"] == "F-1"
    # Setting an organisation's own custom_id again is no conflict; another chain may use it.
    assert (
        body(tenant.patch(f"{ORGS}/{first['id']}", json={"custom_id": "D-1"}))["custom_id"] == "D-1"
    )
    body(other_tenant.post(ORGS, json={"kind": "dealer", "name": "A", "custom_id": "D-1"}), 201)


def test_rotating_a_factorys_secret_keeps_the_old_one_for_24_hours(tenant, session):
    factory = body(tenant.post(ORGS, json={"kind": "factory", "name": "F"}), 201)
    old = factory["webhook_secret"]
    now = datetime.now(UTC)
    with time_machine.travel(now, tick=False):
        rotated = body(tenant.post(f"{ORGS}/{factory['id']}/secret:rotate"))
    new = rotated["webhook_secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated["webhook_url"] == factory["webhook_url"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert expires == now + timedelta(hours=24)

    assert active_webhook_secrets(session, UUID(factory["id"]), now=now) == [new, old]
    later = now + timedelta(hours=23, minutes=59)
    assert active_webhook_secrets(session, UUID(factory["id"]), now=later) == [new, old]
    assert active_webhook_secrets(session, UUID(factory["id"]), now=expires) == [new]
    session.commit()
    read = tenant.get(f"{ORGS}/{factory['id']}").get_data(as_text=True)
    assert new not in read and old not in read


def test_rotating_again_does_not_extend_the_secret_before_last(tenant, session):
    factory = body(tenant.post(ORGS, json={"kind": "factory", "name": "F"}), 201)
    first = factory["webhook_secret"]
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        second = body(tenant.post(f"{ORGS}/{factory['id']}/secret:rotate"))["webhook_secret"]
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        third = body(tenant.post(f"{ORGS}/{factory['id']}/secret:rotate"))["webhook_secret"]
    at = start + timedelta(hours=24, seconds=1)
    assert active_webhook_secrets(session, UUID(factory["id"]), now=at) == [third, second]
    assert first not in active_webhook_secrets(session, UUID(factory["id"]), now=at)
    session.commit()


def test_only_a_factory_has_a_secret_to_rotate(tenant):
    dealer = body(tenant.post(ORGS, json={"kind": "dealer", "name": "D"}), 201)
    assert bad_fields(tenant.post(f"{ORGS}/{dealer['id']}/secret:rotate")) == {"kind"}
    assert bad_fields(tenant.post(f"{ORGS}/{tenant.brand_id}/secret:rotate")) == {"kind"}
