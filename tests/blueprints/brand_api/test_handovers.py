"""Handovers: every customer, group ownership and seat of one member moves to a colleague of
the same organisation in one step, with a notice in each group and nothing lost."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from service.customers.models import AuditEntry
from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)
from tests.blueprints.brand_api.delivery_world import add_member, open_shop


def hand_over(tenant, from_member_id: str, to_member_id: str):
    payload = {"from_member_id": from_member_id, "to_member_id": to_member_id}
    return tenant.post(f"{API}/handovers", json=payload)


def everything(tenant) -> dict:
    """Every customer, group (with seats) and message the chain's key can read."""
    customers = body(tenant.get(f"{API}/customers", query_string={"limit": 500}))["items"]
    groups = body(tenant.get(f"{API}/groups", query_string={"limit": 500}))["items"]
    return {
        "customers": {c["id"]: c for c in customers},
        "groups": {g["id"]: body(tenant.get(f"{API}/groups/{g['id']}")) for g in groups},
        "messages": {
            g["id"]: body(
                tenant.get(f"{API}/groups/{g['id']}/messages", query_string={"limit": 500})
            )["items"][::-1]
            for g in groups
        },
    }


def seats_of(group: dict) -> list[tuple[str | None, str]]:
    return [(s["member_id"], s["role"]) for s in group["seats"]]


def owned_group(shop, name: str, owner: str | None = None) -> tuple[dict, str]:
    customer = shop.customer(name, owner_member_id=owner or shop.owner_id)
    order = shop.order(customer["id"], f"SO-{name}")
    return customer, order["group_id"]


def test_a_handover_moves_every_customer_seat_and_ownership_with_a_notice(tenant, shop, connection):
    giver, taker = shop.owner_id, add_member(tenant, shop.dealer_id, "service_specialist", "Ma Li")
    elsewhere = open_shop(tenant, "Xuhui Store")
    chen, chen_group = owned_group(shop, "Chen")
    wang, wang_group = owned_group(shop, "Wang")
    no_order = shop.customer("Zhou")  # a customer without a group yet moves too
    # The giver also sits in a colleague's customer's group, as a plain member.
    _, designer_group = owned_group(shop, "Sun", owner=shop.designer_id)
    body(shop.tenant.post(f"{API}/groups/{designer_group}/members", json={"member_id": giver}))
    _, unrelated_group = owned_group(elsewhere, "Qian")
    body(shop.post_message(chen_group, "Is my wardrobe ready?"), 201)
    before = everything(tenant)

    result = body(hand_over(tenant, giver, taker), 201)
    assert (result["customers"], result["groups"]) == (3, 3)
    after = everything(tenant)

    # Nothing lost: the same customers, groups and messages, plus one notice per group.
    assert after["customers"].keys() == before["customers"].keys()
    assert after["groups"].keys() == before["groups"].keys()
    for customer_id in (chen["id"], wang["id"], no_order["id"]):
        assert after["customers"][customer_id]["owner_member_id"] == taker
        moved = {**after["customers"][customer_id], "owner_member_id": giver, "updated_at": None}
        assert moved == {**before["customers"][customer_id], "updated_at": None}
    customers_of = body(tenant.get(f"{API}/customers", query_string={"owner_member_id": giver}))
    assert customers_of["items"] == []

    for group_id in (chen_group, wang_group):
        group = after["groups"][group_id]
        assert group["owner_member_id"] == taker
        assert (taker, "owner") in [(s["member_id"], s["role"]) for s in group["seats"]]
    sun = after["groups"][designer_group]
    assert sun["owner_member_id"] == shop.designer_id
    assert (taker, "member") in [(s["member_id"], s["role"]) for s in sun["seats"]]
    for group_id in (chen_group, wang_group, designer_group):
        group, earlier = after["groups"][group_id], before["groups"][group_id]
        assert giver not in {s["member_id"] for s in group["seats"]}
        assert group["member_count"] == earlier["member_count"] == len(group["seats"])
        messages = after["messages"][group_id]
        assert messages[:-1] == before["messages"][group_id]
        notice = messages[-1]
        assert (notice["kind"], notice["sender"]) == ("notice", "system")
        assert "Li Na" in notice["text"] and "Ma Li" in notice["text"]
        assert notice["payload"]["handover"] == {"from_member_id": giver, "to_member_id": taker}
    assert body(tenant.get(f"{API}/groups", query_string={"member_id": giver}))["items"] == []

    # Groups the giver had nothing to do with are untouched.
    assert after["groups"][unrelated_group] == before["groups"][unrelated_group]
    assert after["messages"][unrelated_group] == before["messages"][unrelated_group]

    entry_id = uuid.UUID(result["audit_entry_id"])
    entry = connection.execute(select(AuditEntry).where(AuditEntry.id == entry_id)).one()
    assert (entry.action, entry.chain_id) == ("handover", tenant.chain_id)
    assert entry.details["from_member_id"] == giver
    assert entry.details["to_member_id"] == taker
    assert entry.details["customers"] == 3
    assert sorted(entry.details["group_ids"]) == sorted([chen_group, wang_group, designer_group])


def test_a_handover_to_a_colleague_already_seated_leaves_them_one_seat_as_owner(tenant, shop):
    _, group_id = owned_group(shop, "Chen")
    before = shop.group(group_id)
    assert (shop.designer_id, "member") in [(s["member_id"], s["role"]) for s in before["seats"]]
    body(hand_over(tenant, shop.owner_id, shop.designer_id), 201)
    after = shop.group(group_id)
    assert after["owner_member_id"] == shop.designer_id
    seats = [(s["member_id"], s["role"]) for s in after["seats"]]
    assert seats.count((shop.designer_id, "owner")) == 1
    assert [member for member, _ in seats].count(shop.designer_id) == 1
    assert shop.owner_id not in [member for member, _ in seats]
    assert after["member_count"] == len(after["seats"]) == before["member_count"] - 1


def test_a_template_without_the_owner_role_still_seats_the_new_owner(tenant, shop):
    default = next(t for t in body(tenant.get(f"{API}/group-templates"))["items"])
    path = f"{API}/group-templates/{default['id']}"
    body(tenant.patch(path, json={"member_roles": ["designer"]}))
    taker = add_member(tenant, shop.dealer_id, "service_specialist", "Ma Li")
    _, group_id = owned_group(shop, "Chen")
    assert (shop.owner_id, "owner") in seats_of(shop.group(group_id))
    result = body(hand_over(tenant, shop.owner_id, taker), 201)
    assert result["groups"] == 1
    group = shop.group(group_id)
    assert group["owner_member_id"] == taker
    assert seats_of(group) == [(None, "customer"), (taker, "owner"), (shop.designer_id, "member")]
    assert shop.messages(group_id)[-1]["kind"] == "notice"
    # The new owner may answer in the group.
    posted = shop.post_message(group_id, "I take over from here.", "member", sender_member_id=taker)
    assert posted.status_code == 201


def test_a_removed_members_customers_can_still_be_handed_over(tenant, shop):
    """A member who leaves is removed; their customers must not be stranded with them."""
    chen, group_id = owned_group(shop, "Chen")
    taker = add_member(tenant, shop.dealer_id, "service_specialist", "Ma Li")
    assert tenant.delete(f"{API}/members/{shop.owner_id}").status_code == 204
    result = body(hand_over(tenant, shop.owner_id, taker), 201)
    assert (result["customers"], result["groups"]) == (1, 1)
    assert body(tenant.get(f"{API}/customers/{chen['id']}"))["owner_member_id"] == taker
    assert shop.group(group_id)["owner_member_id"] == taker
    # Nobody can take over for someone who has left.
    assert bad_fields(hand_over(tenant, taker, shop.owner_id)) == {"to_member_id"}


def test_a_handover_to_a_member_of_another_organisation_is_refused(tenant, shop, connection):
    owned_group(shop, "Chen")
    other = open_shop(tenant, "Xuhui Store")
    before = database_snapshot(connection)
    for taker in (shop.coordinator_id, other.owner_id):
        error = assert_error(hand_over(tenant, shop.owner_id, taker), 422)
        assert set(error["details"]["fields"]) == {"to_member_id"}
        assert "organisation" in error["details"]["fields"]["to_member_id"][0]
    assert database_snapshot(connection) == before


def test_a_handover_to_oneself_is_refused(tenant, shop, connection):
    owned_group(shop, "Chen")
    before = database_snapshot(connection)
    assert bad_fields(hand_over(tenant, shop.owner_id, shop.owner_id)) == {"to_member_id"}
    assert database_snapshot(connection) == before


def test_unknown_members_are_refused_naming_them(tenant, shop, connection):
    unknown = "01234567-89ab-7def-8123-456789abcdef"
    before = database_snapshot(connection)
    assert bad_fields(hand_over(tenant, unknown, shop.owner_id)) == {"from_member_id"}
    assert bad_fields(hand_over(tenant, shop.owner_id, unknown)) == {"to_member_id"}
    response = tenant.post(f"{API}/handovers", json={"from_member_id": shop.owner_id})
    assert bad_fields(response) == {"to_member_id"}
    assert database_snapshot(connection) == before


def test_handovers_have_no_quota(tenant, shop):
    """The platform allows two per 90 days; here a customer may move as often as needed."""
    chen, _ = owned_group(shop, "Chen")
    taker = add_member(tenant, shop.dealer_id, "service_specialist", "Ma Li")
    pair = (shop.owner_id, taker)
    for n in range(6):
        giver, receiver = pair[n % 2], pair[(n + 1) % 2]
        assert body(hand_over(tenant, giver, receiver), 201)["customers"] == 1
    assert body(tenant.get(f"{API}/customers/{chen['id']}"))["owner_member_id"] == shop.owner_id


def test_a_member_with_nothing_to_hand_over_moves_nothing(tenant, shop, connection):
    owned_group(shop, "Chen")
    before = everything(tenant)
    result = body(hand_over(tenant, shop.sales_id, shop.installer_id), 201)
    assert (result["customers"], result["groups"]) == (0, 0)
    assert result["audit_entry_id"]
    assert everything(tenant) == before


def test_another_chain_cannot_hand_over_this_chains_members(tenant, shop, other_tenant, connection):
    owned_group(shop, "Chen")
    theirs = open_shop(other_tenant)
    before = database_snapshot(connection)
    assert bad_fields(hand_over(other_tenant, shop.owner_id, shop.designer_id)) == {
        "from_member_id"
    }
    assert bad_fields(hand_over(other_tenant, theirs.owner_id, shop.designer_id)) == {
        "to_member_id"
    }
    assert database_snapshot(connection) == before
