"""GET /api/v1/reports/service on a world worked out by hand: a customer answered after 7
minutes of business time across a night (12 h 7 min on the wall clock), two messages before
one reply, a factory's member and an auto-reply that are not replies, a message unanswered
now; a dealer's and a member's figures, another chain's and another dealer's nothing; CSV
cells neutralised; bad filters refused naming the field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.blueprints.brand_api.chain_world import API, bad_fields, body
from tests.blueprints.brand_api.delivery_world import open_shop
from tests.blueprints.brand_api.test_groups import seat, set_default_template

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # Monday 1 March, 10:00 in Shanghai
NOW = datetime(2027, 3, 6, 2, 0, tzinfo=UTC)  # Saturday, 10:00
MARCH = {"from": "2027-03-01", "to": "2027-03-31"}
FORMULA = "=SUM(A1:A9)"
MINUTE, HOUR = 60, 3600


def _at(moment: datetime, call):
    with time_machine.travel(moment, tick=False):
        return call()


@pytest.fixture
def answered(tenant, shop):
    """One customer's group (4 seats) and what was said there, in Shanghai time:

    - Mon 20:55 the customer asks; Tue 09:02 the owner answers: a first response of 7
      business minutes, 12 h 7 min on the wall clock, not the same day;
    - Tue 10:00 and 10:10 the customer asks twice; 10:15 the factory's coordinator writes
      (not a reply); 10:30 the designer answers: 30 min (a first response) and 20 min;
    - Wed 11:00 the customer asks about installing: the auto-reply is not a reply, so it is
      unanswered now (Sat 10:00): 2 days 23 h on the wall clock, 35 business hours.
    """
    set_default_template(
        tenant, auto_replies=[{"keyword": "install", "reply": "Our installer will call."}]
    )
    customer = shop.customer()
    order = _at(T0, lambda: shop.order(customer["id"], "SO-1"))
    group_id = order["group_id"]
    _at(T0, lambda: body(seat(tenant, group_id, shop.coordinator_id), 201))
    for moment, text, sender, member in (
        (T0 + timedelta(hours=10, minutes=55), "When?", "customer", None),
        (T0 + timedelta(hours=23, minutes=2), "Tomorrow.", "member", shop.owner_id),
        (T0 + timedelta(days=1), "Which colour?", "customer", None),
        (T0 + timedelta(days=1, minutes=10), "And the handles?", "customer", None),
        (T0 + timedelta(days=1, minutes=15), "Panels are cut.", "member", shop.coordinator_id),
        (T0 + timedelta(days=1, minutes=30), "Oak, brass.", "member", shop.designer_id),
        (T0 + timedelta(days=2, hours=1), "When do you install?", "customer", None),
    ):
        extra = {"sender_member_id": member} if member else {}
        _at(
            moment,
            lambda t=text, s=sender, e=extra: body(shop.post_message(group_id, t, s, **e), 201),
        )
    return group_id


def _report(tenant, **query) -> dict:
    return body(_at(NOW, lambda: tenant.get(f"{API}/reports/service", query_string=query)))


def test_the_figures_of_a_world_worked_out_by_hand(tenant, shop, answered):
    report = _report(tenant, **MARCH)
    assert report["business_hours"] == {"opens": "09:00", "closes": "21:00"}
    total = report["total"]
    assert {k: total[k] for k in ("new_groups", "groups_total", "groups_with_messages",
                                  "new_members", "members_total", "members_who_wrote",
                                  "messages", "customer_messages")} == {
        "new_groups": 1, "groups_total": 1, "groups_with_messages": 1,
        # The customer, the owner, the designer, the installer; then the coordinator.
        "new_members": 5, "members_total": 5,
        # The customer, the owner, the coordinator, the designer (not the installer).
        "members_who_wrote": 4, "messages": 7, "customer_messages": 4,
    }  # fmt: skip
    # First responses: 12 h 7 min (7 business minutes) and 30 min; nearest rank, within 1 %.
    assert total["first_responses"] == 2
    _near(total["first_response_median_seconds"], 30 * MINUTE)
    _near(total["first_response_p90_seconds"], 12 * HOUR + 7 * MINUTE)
    _near(total["first_response_business_median_seconds"], 7 * MINUTE)
    _near(total["first_response_business_p90_seconds"], 30 * MINUTE)
    # Every reply time: 12 h 7 min, 30 min, 20 min.
    assert total["replies"] == 3
    _near(total["reply_median_seconds"], 30 * MINUTE)
    _near(total["reply_business_median_seconds"], 20 * MINUTE)
    assert total["answered_same_day"] == 2 and total["same_day_rate"] == 0.5
    assert total["unanswered_now"] == 1
    assert total["longest_wait_seconds"] == 2 * 86400 + 23 * HOUR
    assert total["longest_wait_business_seconds"] == 35 * HOUR
    [dealer] = report["dealers"]
    [member] = report["members"]
    assert dealer["dealer_id"] == shop.dealer_id and dealer["member_id"] is None
    assert (member["member_id"], member["member_name"]) == (shop.owner_id, "Li Na")
    assert {k: v for k, v in member.items() if k not in ("member_id", "member_name")} == {
        k: v for k, v in dealer.items() if k not in ("member_id", "member_name")
    }
    # The weeks of March from Monday 1st: the two first responses in the first.
    weeks = report["weeks"]
    assert [w["week"] for w in weeks] == ["2027-03-01", "2027-03-08", "2027-03-15",
                                          "2027-03-22", "2027-03-29"]  # fmt: skip
    assert weeks[0]["first_responses"] == 2 and weeks[1]["first_responses"] == 0
    _near(weeks[0]["business_median_seconds"], 7 * MINUTE)
    assert weeks[1]["median_seconds"] is None


def _near(found: int, exact: int) -> None:
    assert abs(found - exact) <= exact * 0.01 + 1, (found, exact)


def test_a_period_counts_what_was_written_in_it(tenant, answered):
    # Tuesday alone: two of the customer's messages, both answered the same day.
    total = _report(tenant, **{"from": "2027-03-02", "to": "2027-03-02"})["total"]
    assert (total["customer_messages"], total["replies"], total["answered_same_day"]) == (2, 2, 2)
    assert (total["new_groups"], total["groups_total"], total["new_members"]) == (0, 1, 0)
    assert total["unanswered_now"] == 0 and total["longest_wait_seconds"] is None
    # February: nothing yet, not even the group.
    february = _report(tenant, **{"from": "2027-02-01", "to": "2027-02-28"})
    assert february["total"]["groups_total"] == 0 and february["members"] == []


def test_a_dealers_and_a_members_report_hold_theirs_alone(tenant, shop, answered):
    other = open_shop(tenant, "Xuhui Store")
    _at(T0, lambda: other.order(other.customer("Wang Fang")["id"], "SO-2"))
    everyone = _report(tenant, **MARCH)
    assert everyone["total"]["new_groups"] == 2 and len(everyone["dealers"]) == 2
    theirs = _report(tenant, dealer_id=other.dealer_id, **MARCH)
    assert [d["dealer_id"] for d in theirs["dealers"]] == [other.dealer_id]
    assert theirs["total"]["messages"] == 0 and theirs["total"]["new_groups"] == 1
    mine = _report(tenant, member_id=shop.owner_id, **MARCH)
    assert [m["member_id"] for m in mine["members"]] == [shop.owner_id]
    assert mine["total"]["messages"] == 7
    # Someone who owns no group has empty figures.
    nobody = _report(tenant, member_id=shop.designer_id, **MARCH)
    assert nobody["members"] == [] and nobody["total"]["messages"] == 0


def test_another_chain_sees_nothing_of_it(tenant, other_tenant, shop, answered):
    theirs = _report(other_tenant, **MARCH)
    assert theirs["dealers"] == [] and theirs["total"]["messages"] == 0
    for field, value in (("dealer_id", shop.dealer_id), ("member_id", shop.owner_id)):
        response = _at(NOW, lambda f=field, v=value: other_tenant.get(
            f"{API}/reports/service", query_string={f: v}))  # fmt: skip
        assert bad_fields(response) == {field}


def test_bad_filters_are_refused_naming_the_field(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")
    for query, field in (
        ({"dealer_id": shop.factory_id}, "dealer_id"),
        ({"member_id": shop.coordinator_id}, "member_id"),
        ({"dealer_id": other.dealer_id, "member_id": shop.owner_id}, "member_id"),
        ({"from": "2027-03-02", "to": "2027-03-01"}, "from"),
        ({"from": "1999-12-31"}, "from"),
        ({"table": "groups"}, "table"),
        ({"member_id": "not-a-uuid"}, "member_id"),
    ):
        response = tenant.get(f"{API}/reports/service", query_string=query)
        assert bad_fields(response) == {field}, query


def test_the_tables_in_csv_with_formulas_neutralised(tenant, shop):
    renamed = tenant.patch(f"{API}/organisations/{shop.dealer_id}", json={"name": FORMULA})
    body(renamed)
    customer = shop.customer()
    group_id = _at(T0, lambda: shop.order(customer["id"], "SO-1"))["group_id"]
    _at(T0, lambda: body(shop.post_message(group_id, "Hello"), 201))
    for table in ("members", "dealers"):
        response = _csv(tenant, table)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        [row] = list(csv.DictReader(io.StringIO(response.get_data(True))))
        assert row["dealer_name"] == "'" + FORMULA
        assert (row["customer_messages"], row["unanswered_now"]) == ("1", "1")
    weeks = csv.DictReader(io.StringIO(_csv(tenant, "weeks").text))
    assert next(weeks)["week"] == "2027-03-01"


def _csv(tenant, table: str):
    query = {"format": "csv", "table": table, **MARCH}
    return _at(NOW, lambda: tenant.get(f"{API}/reports/service", query_string=query))
