"""Orders: split into work items per factory, idempotent on their reference, with a milestone
derived from their items and a timeline of every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from service.groups.models import Message
from service.notify.models import OutboxEvent
from service.progress.milestones import MILESTONES
from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)
from tests.blueprints.brand_api.delivery_world import add_member, add_organisation, open_shop


def two_items(shop, second_factory: str | None = None) -> list[dict]:
    return [
        {
            "factory_id": shop.factory_id,
            "description": " Wardrobe panels ",
            "quantity": 4,
            "factory_reference": "P-001",
        },
        {"factory_id": second_factory or shop.factory_id, "description": "Frame", "quantity": 1},
    ]


def orders(tenant, **query) -> list[dict]:
    return body(tenant.get(f"{API}/orders", query_string={"limit": 500, **query}))["items"]


def outbox(connection) -> tuple[int, int]:
    """Outbox entries written: (messages, rows); a message is its own entry."""
    return (
        connection.scalar(select(func.count()).select_from(Message)),
        connection.scalar(select(func.count()).select_from(OutboxEvent)),
    )


def test_an_order_is_placed_with_its_items_group_and_timeline(tenant, shop):
    chen = shop.customer()
    order = body(shop.place(chen["id"], " SO-1 ", two_items(shop)), 201)
    assert order["reference"] == "SO-1"
    assert (order["customer_id"], order["dealer_id"]) == (chen["id"], shop.dealer_id)
    assert order["milestone"] == "received"
    assert [
        (i["position"], i["factory_id"], i["description"], i["quantity"], i["factory_reference"])
        for i in order["items"]
    ] == [
        (1, shop.factory_id, "Wardrobe panels", 4, "P-001"),
        (2, shop.factory_id, "Frame", 1, None),
    ]
    assert {i["milestone"] for i in order["items"]} == {"received"}
    assert order["group_id"] == shop.group(order["group_id"])["id"]
    assert [(e["work_item_id"], e["milestone"], e["late"]) for e in order["timeline"]] == [
        (None, "received", False)
    ]
    assert body(tenant.get(f"{API}/orders/{order['id']}")) == order


def test_repeating_an_order_returns_the_first_and_stores_nothing(tenant, shop, connection):
    chen = shop.customer()
    first = body(shop.place(chen["id"], "SO-1", two_items(shop)), 201)
    before = database_snapshot(connection)
    again = shop.place(chen["id"], "SO-1", two_items(shop))
    assert again.status_code == 200
    assert again.get_json() == first
    assert database_snapshot(connection) == before
    assert [o["id"] for o in orders(tenant)] == [first["id"]]


def test_a_reference_reused_with_a_different_body_is_a_conflict(tenant, shop, connection):
    chen, wang = shop.customer("Chen Jing"), shop.customer("Wang Fang")
    first = shop.order(chen["id"], "SO-1", two_items(shop))
    before = database_snapshot(connection)
    changed = two_items(shop)
    changed[1]["quantity"] = 2
    error = assert_error(shop.place(chen["id"], "SO-1", changed), 409, "conflict")
    assert error["details"]["order_id"] == first["id"]
    assert set(error["details"]["fields"]) == {"reference"}
    assert_error(shop.place(wang["id"], "SO-1", two_items(shop)), 409, "conflict")
    assert database_snapshot(connection) == before


def test_an_order_for_a_customer_of_another_dealer_is_refused(tenant, shop, connection):
    chen = shop.customer()
    other = open_shop(tenant, "Xuhui Store")
    before = database_snapshot(connection)
    response = tenant.post(
        f"{API}/orders", json={**shop.order_body(chen["id"], "SO-1"), "dealer_id": other.dealer_id}
    )
    assert bad_fields(response) == {"dealer_id"}
    assert database_snapshot(connection) == before


def test_an_unknown_customer_is_refused_naming_it(tenant, shop, connection):
    before = database_snapshot(connection)
    response = shop.place("01234567-89ab-7def-8123-456789abcdef", "SO-1")
    assert bad_fields(response) == {"customer_id"}
    assert database_snapshot(connection) == before


def test_an_unknown_factory_is_refused_naming_the_item(tenant, shop, connection):
    chen = shop.customer()
    before = database_snapshot(connection)
    for not_a_factory in ("01234567-89ab-7def-8123-456789abcdef", shop.dealer_id):
        items = [{"factory_id": not_a_factory, "description": "Door", "quantity": 1}]
        assert bad_fields(shop.place(chen["id"], "SO-1", items)) == {"items[0].factory_id"}
        items = [*two_items(shop), items[0]]
        assert bad_fields(shop.place(chen["id"], "SO-1", items)) == {"items[2].factory_id"}
    removed = add_organisation(tenant, "factory", "Closed Works")
    assert tenant.delete(f"{API}/organisations/{removed}").status_code == 204
    before = database_snapshot(connection)
    items = [{"factory_id": removed, "description": "Door", "quantity": 1}]
    assert bad_fields(shop.place(chen["id"], "SO-1", items)) == {"items[0].factory_id"}
    assert database_snapshot(connection) == before


def test_a_factory_reference_already_taken_is_refused(tenant, shop, connection):
    chen = shop.customer()
    shop.order(chen["id"], "SO-1", two_items(shop))
    before = database_snapshot(connection)
    taken = [{"factory_id": shop.factory_id, "description": "Door", "quantity": 1,
              "factory_reference": "P-001"}]  # fmt: skip
    assert bad_fields(shop.place(chen["id"], "SO-2", taken)) == {"items[0].factory_reference"}
    twice = [{**taken[0], "factory_reference": "P-002"}, {**taken[0], "factory_reference": "P-002"}]
    assert bad_fields(shop.place(chen["id"], "SO-2", twice)) == {"items[1].factory_reference"}
    assert database_snapshot(connection) == before
    # Another factory may use the same reference for its own work.
    elsewhere = add_organisation(tenant, "factory", "Frame Works")
    assert (
        shop.place(chen["id"], "SO-2", [{**taken[0], "factory_id": elsewhere}]).status_code == 201
    )


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        ([], {"items"}),
        ([{"description": "Door", "quantity": 1}], {"items[0].factory_id"}),
        (
            [{"factory_id": "x", "description": "", "quantity": 0}],
            {"items[0].factory_id", "items[0].description", "items[0].quantity"},
        ),
    ],
)
def test_malformed_items_are_refused(tenant, shop, items, fields):
    chen = shop.customer()
    # Validation of shape names the list; the nested errors say which item and what.
    response = tenant.post(f"{API}/orders", json=shop.order_body(chen["id"], "SO-1", items))
    assert bad_fields(response) == fields
    assert orders(tenant) == []


def test_an_order_is_as_far_as_its_least_advanced_item(tenant, shop):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    panels, frame = (item["id"] for item in order["items"])
    result = shop.progress(panels, "shipped", note="By truck")
    assert result["moved"] is True
    assert result["work_item"]["milestone"] == "shipped"
    assert result["order_milestone"] == "received"  # the frame is not started
    result = shop.progress(frame, "designed")
    assert result["order_milestone"] == "designed"
    result = shop.progress(frame, "delivered")
    assert result["order_milestone"] == "shipped"  # now the panels are behind
    read = body(tenant.get(f"{API}/orders/{order['id']}"))
    assert read["milestone"] == "shipped"
    assert [(e["work_item_id"], e["milestone"]) for e in read["timeline"]] == [
        (None, "received"),
        (panels, "shipped"),
        (frame, "designed"),
        (None, "designed"),
        (frame, "delivered"),
        (None, "shipped"),
    ]
    assert read["timeline"][1]["note"] == "By truck"
    assert read["timeline"][1]["actor"] == "api"


def test_an_order_is_completed_only_when_every_item_is(tenant, shop):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    panels, frame = (item["id"] for item in order["items"])
    assert shop.progress(panels, "completed")["order_milestone"] == "received"
    assert shop.progress(frame, "installed")["order_milestone"] == "installed"
    assert orders(tenant, milestone="completed") == []
    assert shop.progress(frame, "completed")["order_milestone"] == "completed"
    assert [o["id"] for o in orders(tenant, milestone="completed")] == [order["id"]]


def test_a_late_milestone_does_not_move_back_and_posts_nothing(tenant, shop, connection):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    panels = order["items"][0]["id"]
    shop.progress(panels, "shipped")
    messages = shop.messages(order["group_id"])
    entries = outbox(connection)
    for late in ("in_production", "shipped"):  # an older milestone; the same one again
        result = shop.progress(panels, late)
        assert result["moved"] is False
        assert result["work_item"]["milestone"] == "shipped"
    read = body(tenant.get(f"{API}/orders/{order['id']}"))
    assert read["items"][0]["milestone"] == "shipped"
    assert [(e["milestone"], e["late"]) for e in read["timeline"][-2:]] == [
        ("in_production", True),
        ("shipped", True),
    ]
    assert shop.messages(order["group_id"]) == messages  # no notification for the customer
    assert outbox(connection) == entries


def test_a_milestone_posts_one_notification_its_only_outbox_entry(tenant, shop, connection):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    panels = order["items"][0]["id"]
    messages, rows = outbox(connection)
    shop.progress(panels, "shipped", eta="2030-05-01T10:00:00+08:00", note="Truck 7")
    assert outbox(connection) == (messages + 1, rows)
    notification = shop.messages(order["group_id"])[-1]
    assert (notification["kind"], notification["sender"]) == ("notification", "system")
    assert "SO-1" in notification["text"] and "已发货" in notification["text"]
    assert "Truck 7" in notification["text"]
    payload = notification["payload"]
    assert (payload["order_id"], payload["work_item_id"]) == (order["id"], panels)
    assert (payload["milestone"], payload["order_milestone"]) == ("shipped", "received")
    item = body(tenant.get(f"{API}/orders/{order['id']}"))["items"][0]
    assert item["eta"].startswith("2030-05-01T02:00:00")


def test_an_unknown_milestone_is_refused(tenant, shop, connection):
    order = shop.order(shop.customer()["id"], "SO-1")
    before = database_snapshot(connection)
    path = f"{API}/work-items/{order['items'][0]['id']}/progress"
    assert bad_fields(tenant.post(path, json={"milestone": "teleported"})) == {"milestone"}
    assert bad_fields(tenant.post(path, json={"milestone": "shipped", "eta": "soon"})) == {"eta"}
    assert database_snapshot(connection) == before


def test_orders_filter_by_dealer_customer_factory_and_milestone(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")
    second_factory = add_organisation(tenant, "factory", "Frame Works")
    chen, wang = shop.customer("Chen"), shop.customer("Wang")
    a = shop.order(chen["id"], "SO-A")
    b = shop.order(chen["id"], "SO-B", two_items(shop, second_factory))
    c = shop.order(wang["id"], "SO-C")
    d = other.order(other.customer("Zhou")["id"], "SO-D")
    shop.progress(c["items"][0]["id"], "designed")

    def ids(**query):
        return [o["id"] for o in orders(tenant, **query)]

    assert ids() == [d["id"], c["id"], b["id"], a["id"]]
    assert ids(dealer_id=shop.dealer_id) == [c["id"], b["id"], a["id"]]
    assert ids(dealer_id=other.dealer_id) == [d["id"]]
    assert ids(customer_id=chen["id"]) == [b["id"], a["id"]]
    assert ids(factory_id=second_factory) == [b["id"]]
    assert ids(factory_id=shop.factory_id) == [c["id"], b["id"], a["id"]]
    assert ids(milestone="designed") == [c["id"]]
    assert ids(milestone="received", dealer_id=shop.dealer_id) == [b["id"], a["id"]]
    assert ids(customer_id=wang["id"], milestone="received") == []
    listed = orders(tenant, customer_id=wang["id"])[0]
    assert listed["milestone"] == "designed"
    assert set(listed) >= {"id", "customer_id", "dealer_id", "reference", "milestone"}


def test_filtering_by_one_dealer_never_shows_another_dealers_orders(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")
    mine = {shop.order(shop.customer(f"Mine {n}")["id"], f"SO-M{n}")["id"] for n in range(3)}
    theirs = {other.order(other.customer(f"Theirs {n}")["id"], f"SO-T{n}")["id"] for n in range(3)}
    for dealer, expected in ((shop.dealer_id, mine), (other.dealer_id, theirs)):
        seen, cursor = [], None
        while True:
            query = {"dealer_id": dealer, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = body(tenant.get(f"{API}/orders", query_string=query))
            seen += [o["id"] for o in page["items"]]
            assert {o["dealer_id"] for o in page["items"]} <= {dealer}
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert set(seen) == expected and len(seen) == len(expected)


def test_paging_newest_first_visits_every_order_once(tenant, shop):
    chen = shop.customer()
    placed = [shop.order(chen["id"], f"SO-{n}")["id"] for n in range(7)]
    first = body(tenant.get(f"{API}/orders", query_string={"limit": 3}))
    late = shop.order(chen["id"], "SO-late")["id"]  # placed while paging
    seen, cursor = [o["id"] for o in first["items"]], first["next_cursor"]
    while cursor:
        page = body(tenant.get(f"{API}/orders", query_string={"limit": 3, "cursor": cursor}))
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
    assert seen == placed[::-1]  # every one once, newest first; the late one is on a new page 1
    assert orders(tenant)[0]["id"] == late


def test_a_filter_naming_an_unknown_id_is_refused_naming_it(tenant, shop):
    unknown = "01234567-89ab-7def-8123-456789abcdef"
    for name in ("dealer_id", "customer_id", "factory_id"):
        assert bad_fields(tenant.get(f"{API}/orders", query_string={name: unknown})) == {name}
    assert bad_fields(tenant.get(f"{API}/orders", query_string={"milestone": "lost"})) == {
        "milestone"
    }


def test_every_milestone_can_be_filtered_on(tenant, shop):
    for milestone in MILESTONES:
        assert tenant.get(f"{API}/orders", query_string={"milestone": milestone}).status_code == 200


def test_another_chains_key_sees_none_of_the_orders(tenant, shop, other_tenant):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    theirs = open_shop(other_tenant)
    own = theirs.order(theirs.customer()["id"], "SO-1")  # the same reference is free there
    assert [o["id"] for o in orders(other_tenant)] == [own["id"]]
    assert_error(other_tenant.get(f"{API}/orders/{order['id']}"), 404, "not_found")
    path = f"{API}/work-items/{order['items'][0]['id']}/progress"
    assert_error(other_tenant.post(path, json={"milestone": "shipped"}), 404, "not_found")
    assert body(tenant.get(f"{API}/orders/{order['id']}"))["items"][0]["milestone"] == "received"
    for name, value in (("customer_id", order["customer_id"]), ("factory_id", shop.factory_id)):
        query = {name: value}
        assert bad_fields(other_tenant.get(f"{API}/orders", query_string=query)) == {name}


def test_an_order_placed_for_a_customer_with_a_group_reuses_it(tenant, shop):
    chen = shop.customer()
    first = shop.order(chen["id"], "SO-1")
    second = shop.order(chen["id"], "SO-2")
    assert second["group_id"] == first["group_id"]
    assert [g["id"] for g in body(tenant.get(f"{API}/groups"))["items"]] == [first["group_id"]]
    add_member(tenant, shop.dealer_id, "designer")  # joins groups made later, not this one
    assert len(shop.group(first["group_id"])["seats"]) == 4  # customer, owner, designer, installer


def test_an_installation_appointment_is_kept_in_utc_and_shown_on_the_order(tenant, shop):
    order = body(shop.place(shop.customer()["id"], "SO-1", two_items(shop)), 201)
    url = f"{API}/orders/{order['id']}"
    soon = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    local = soon.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()

    booked = body(tenant.patch(url, json={"installation_at": local}))
    assert datetime.fromisoformat(booked["installation_at"]) == soon
    assert booked["id"] == order["id"] and len(booked["items"]) == 2
    listed = orders(tenant)
    assert datetime.fromisoformat(listed[0]["installation_at"]) == soon
    assert body(tenant.patch(url, json={}))["installation_at"] == booked["installation_at"]
    assert body(tenant.patch(url, json={"installation_at": None}))["installation_at"] is None


@pytest.mark.parametrize(
    "value",
    [
        "2027-03-10T09:00:00",  # no offset: whose nine o'clock?
        "next Tuesday",
        "2027-02-30T09:00:00+08:00",
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "2000-01-01T09:00:00+08:00",  # before the order was placed
        "2999-01-01T09:00:00+08:00",  # more than two years ahead
        17,
    ],
)
def test_an_implausible_installation_date_is_refused_naming_the_field(
    tenant, shop, connection, value
):
    order = body(shop.place(shop.customer()["id"], "SO-1", two_items(shop)), 201)
    before = database_snapshot(connection)
    response = tenant.patch(f"{API}/orders/{order['id']}", json={"installation_at": value})
    assert bad_fields(response) == {"installation_at"}
    assert database_snapshot(connection) == before


def test_another_chains_order_cannot_be_booked(tenant, other_tenant, shop):
    order = body(shop.place(shop.customer()["id"], "SO-1", two_items(shop)), 201)
    response = other_tenant.patch(
        f"{API}/orders/{order['id']}", json={"installation_at": "2027-03-10T09:00:00+08:00"}
    )
    assert_error(response, 404, "not_found")
    assert body(tenant.get(f"{API}/orders/{order['id']}"))["installation_at"] is None
