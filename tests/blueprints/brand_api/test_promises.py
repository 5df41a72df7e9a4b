"""The date promised to the customer: set with the order or per item, changed with a reason
kept in the timeline, an item's own promise before its order's; implausible dates refused
naming the field, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.blueprints.brand_api.chain_world import API, bad_fields, body, database_snapshot
from tests.blueprints.brand_api.test_orders import two_items


def _day(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


def _promises(timeline: list[dict]) -> list[tuple]:
    return [
        (e["work_item_id"], e["promised_at"] and datetime.fromisoformat(e["promised_at"]),
         e["note"])
        for e in timeline if e["kind"] == "promise"
    ]  # fmt: skip


def test_an_order_placed_with_promises_shows_each_items_promise(tenant, shop):
    order_day, own_day = _day(20), _day(30)
    items = two_items(shop)
    items[1]["promised_at"] = _local(own_day)
    request = shop.order_body(shop.customer()["id"], "SO-1", items)
    request["promised_at"] = _local(order_day)
    placed = body(tenant.post(f"{API}/orders", json=request), 201)
    assert datetime.fromisoformat(placed["promised_at"]) == order_day
    first, second = placed["items"]
    assert first["promised_at"] is None and datetime.fromisoformat(first["promise"]) == order_day
    assert datetime.fromisoformat(second["promise"]) == own_day  # its own comes first
    assert _promises(placed["timeline"]) == [(None, order_day, ""), (second["id"], own_day, "")]
    assert {e["kind"] for e in placed["timeline"]} == {"milestone", "promise"}
    listed = body(tenant.get(f"{API}/orders"))["items"][0]
    assert datetime.fromisoformat(listed["promised_at"]) == order_day


def test_a_promise_changes_with_its_reason_kept_in_the_timeline(tenant, shop):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    url = f"{API}/orders/{order['id']}"
    first, later = _day(10), _day(13)
    made = body(tenant.patch(url, json={"promised_at": _local(first)}))  # no reason needed
    assert datetime.fromisoformat(made["items"][0]["promise"]) == first

    response = tenant.patch(url, json={"promised_at": _local(later)})
    assert bad_fields(response) == {"reason"}  # a change says why

    moved = body(tenant.patch(url, json={"promised_at": _local(later), "reason": "板材缺货"}))
    again = body(tenant.patch(url, json={"promised_at": _local(later), "reason": "again"}))
    assert _promises(again["timeline"]) == [(None, first, ""), (None, later, "板材缺货")]
    assert again["timeline"] == moved["timeline"]  # the same date again changes nothing

    item = order["items"][0]
    own = body(
        tenant.patch(
            f"{API}/work-items/{item['id']}",
            json={"promised_at": _local(_day(15)), "reason": "separate delivery"},
        )
    )
    assert datetime.fromisoformat(own["promise"]) == _day(15)
    back = body(
        tenant.patch(
            f"{API}/work-items/{item['id']}", json={"promised_at": None, "reason": "together"}
        )
    )
    assert back["promised_at"] is None and datetime.fromisoformat(back["promise"]) == later
    timeline = body(tenant.get(url))["timeline"]
    assert _promises(timeline)[-2:] == [
        (item["id"], _day(15), "separate delivery"),
        (item["id"], None, "together"),
    ]
    withdrawn = body(tenant.patch(url, json={"promised_at": None, "reason": "customer unsure"}))
    assert withdrawn["promised_at"] is None
    assert all(i["promise"] is None for i in withdrawn["items"])


def test_an_items_own_promise_stands_when_its_orders_changes(tenant, shop):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    url, item = f"{API}/orders/{order['id']}", order["items"][1]
    tenant.patch(url, json={"promised_at": _local(_day(10))})
    tenant.patch(f"{API}/work-items/{item['id']}", json={"promised_at": _local(_day(20))})
    moved = body(tenant.patch(url, json={"promised_at": _local(_day(12)), "reason": "later"}))
    first, second = moved["items"]
    assert datetime.fromisoformat(first["promise"]) == _day(12)  # follows its order's
    assert datetime.fromisoformat(second["promise"]) == _day(20)  # keeps its own
    assert datetime.fromisoformat(second["promised_at"]) == _day(20)


@pytest.mark.parametrize(
    "value",
    [
        "2027-03-10T09:00:00",  # no offset
        "soon",
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "2000-01-01T09:00:00+08:00",  # before the order was placed
        "2999-01-01T09:00:00+08:00",  # more than two years ahead
        [],
    ],
)
def test_an_implausible_promise_is_refused_naming_the_field(tenant, shop, connection, value):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    before = database_snapshot(connection)
    response = tenant.patch(f"{API}/orders/{order['id']}", json={"promised_at": value})
    assert bad_fields(response) == {"promised_at"}
    item = order["items"][0]["id"]
    response = tenant.patch(f"{API}/work-items/{item}", json={"promised_at": value})
    assert bad_fields(response) == {"promised_at"}
    items = [
        {k: v for k, v in item.items() if k != "factory_reference"} for item in two_items(shop)
    ]
    items[1]["promised_at"] = value
    response = shop.place(order["customer_id"], "SO-2", items)
    assert bad_fields(response) == {"items[1].promised_at"}
    assert database_snapshot(connection) == before


def test_an_oversize_reason_is_refused(tenant, shop, connection):
    order = shop.order(shop.customer()["id"], "SO-1", two_items(shop))
    url = f"{API}/orders/{order['id']}"
    body(tenant.patch(url, json={"promised_at": _local(_day(5))}))
    before = database_snapshot(connection)
    response = tenant.patch(url, json={"promised_at": _local(_day(6)), "reason": "x" * 1001})
    assert bad_fields(response) == {"reason"}
    assert database_snapshot(connection) == before


def test_placing_the_same_order_again_with_another_promise_is_a_conflict(tenant, shop):
    customer = shop.customer()["id"]
    request = {**shop.order_body(customer, "SO-1", two_items(shop)),
               "promised_at": _local(_day(9))}  # fmt: skip
    first = body(tenant.post(f"{API}/orders", json=request), 201)
    assert body(tenant.post(f"{API}/orders", json=request), 200)["id"] == first["id"]
    other = {**request, "promised_at": _local(_day(12))}
    assert tenant.post(f"{API}/orders", json=other).status_code == 409
