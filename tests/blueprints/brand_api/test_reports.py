"""GET /api/v1/reports/delivery and the work items behind its figures: JSON and CSV (cells
neutralised against formulas), the period in the chain's days, bad input refused naming the
field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.blueprints.brand_api.chain_world import API, bad_fields, body
from tests.blueprints.brand_api.delivery_world import add_organisation

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MARCH = {"from": "2027-03-01", "to": "2027-03-31"}
FORMULA = '=HYPERLINK("http://evil")'


@pytest.fixture
def delivered(tenant, shop):
    """An order of two items at a factory whose name is a formula: both designed after 2 and
    3 hours, one shipped a day later; promised for day 10 and delivered on day 2."""
    factory = add_organisation(tenant, "factory", FORMULA)
    with time_machine.travel(T0, tick=False):
        items = [{"factory_id": factory, "description": d, "quantity": 1} for d in ("A", "B")]
        request = shop.order_body(shop.customer()["id"], "SO-1", items)
        request["promised_at"] = (T0 + timedelta(days=10)).isoformat()
        order = body(tenant.post(f"{API}/orders", json=request), 201)
    first, second = (item["id"] for item in order["items"])
    for item, milestone, at in (
        (first, "designed", T0 + timedelta(hours=2)),
        (second, "designed", T0 + timedelta(hours=3)),
        (first, "shipped", T0 + timedelta(days=1, hours=2)),
        (first, "delivered", T0 + timedelta(days=2)),
    ):
        with time_machine.travel(at, tick=False):
            shop.progress(item, milestone)
    return factory, order


def _get(tenant, path="delivery", **query):
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        return tenant.get(f"{API}/reports/{path}", query_string=query)


def test_the_report_in_json(tenant, delivered):
    factory, _ = delivered
    report = body(_get(tenant, **MARCH))
    assert report["period"] == {"from": "2027-03-01", "to": "2027-03-31",
                                "timezone": "Asia/Shanghai"}  # fmt: skip
    stages = {(s["from_milestone"], s["to_milestone"]): s for s in report["stages"]}
    designed = stages[("received", "designed")]
    assert (designed["count"], designed["max_seconds"]) == (2, 3 * 3600)
    assert abs(designed["median_seconds"] - 2 * 3600) <= 72  # the first of two, within 1 %
    assert stages[("designed", "shipped")]["max_seconds"] == 86400
    [figures] = report["factories"]
    assert figures == {"factory_id": factory, "name": FORMULA, "promised": 1, "kept": 1,
                       "on_time_rate": 1.0, "late_now": 0, "late_events": 0}  # fmt: skip
    # Nothing ended in February.
    assert body(_get(tenant, **{"from": "2027-02-01", "to": "2027-02-28"}))["stages"] == []


def test_the_tables_in_csv_with_formulas_neutralised(tenant, delivered):
    response = _get(tenant, format="csv", table="factories", **MARCH)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(response.get_data(True))))
    assert row["name"] == "'" + FORMULA and row["on_time_rate"] == "1.0"
    stages = list(csv.DictReader(io.StringIO(_get(tenant, format="csv", **MARCH).text)))
    assert [(r["from_milestone"], r["to_milestone"], r["count"]) for r in stages] == [
        ("received", "designed", "2"), ("designed", "shipped", "1"),
        ("shipped", "delivered", "1"),
    ]  # fmt: skip


def test_the_work_items_behind_a_figure(tenant, delivered):
    factory, _ = delivered
    stage = {"figure": "stage", "factory_id": factory, "from_milestone": "received",
             "to_milestone": "designed"}  # fmt: skip
    found = body(_get(tenant, "delivery/work-items", **stage, **MARCH))
    assert found["total"] == 2
    assert [(i["description"], i["seconds"]) for i in found["items"]] == [
        ("B", 3 * 3600),
        ("A", 2 * 3600),
    ]
    assert {i["reference"] for i in found["items"]} == {"SO-1"}
    one = body(_get(tenant, "delivery/work-items", limit=1, **stage, **MARCH))
    assert one["total"] == 2 and len(one["items"]) == 1
    assert body(_get(tenant, "delivery/work-items", figure="missed", **MARCH))["total"] == 0
    # B is not delivered, and on day 11 its promise has passed.
    with time_machine.travel(T0 + timedelta(days=11), tick=False):
        late = body(tenant.get(f"{API}/reports/delivery/work-items",
                               query_string={"figure": "late_now"}))  # fmt: skip
    assert [(i["description"], i["milestone"]) for i in late["items"]] == [("B", "designed")]
    text = _get(tenant, "delivery/work-items", format="csv", **stage, **MARCH).text
    assert text.splitlines()[0].startswith("work_item_id,order_id,reference")


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"from": "2027-04-01", "to": "2027-03-01"}, {"from"}),
        ({"from": "2025-01-01", "to": "2027-03-01"}, {"from"}),  # over a year
        ({"from": "yesterday"}, {"from"}),
        ({"to": "9999-12-31"}, {"to"}),
        ({"from": "0001-01-01", "to": "0001-01-02"}, {"from", "to"}),
        ({"format": "xlsx"}, {"format"}),
        ({"table": "everything", "format": "csv"}, {"table"}),
        ({"factory_id": "not-an-id"}, {"factory_id"}),
    ],
)
def test_bad_input_to_the_report_is_refused_naming_the_field(tenant, delivered, query, fields):
    assert bad_fields(_get(tenant, **query)) == fields


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"figure": "everything"}, {"figure"}),
        ({"figure": "stage"}, {"factory_id", "from_milestone", "to_milestone"}),
        ({"figure": "stage", "from_milestone": "teleported"}, {"from_milestone"}),
        ({"limit": 0}, {"limit"}),
        ({"limit": 10**30}, {"limit"}),
    ],
)
def test_bad_input_to_the_work_items_is_refused_naming_the_field(tenant, query, fields):
    assert bad_fields(_get(tenant, "delivery/work-items", **query)) == fields


def test_a_dealer_is_not_a_factory(tenant, shop, delivered):
    assert bad_fields(_get(tenant, factory_id=shop.dealer_id)) == {"factory_id"}
    assert bad_fields(_get(tenant, dealer_id=delivered[0])) == {"dealer_id"}
