"""The portal's service report: a dealer's people see their dealer's members, the brand every
dealer, a factory's people have no such page; the week's first response drawn as a column;
a period that cannot be is refused under its field."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from service.chain.members import add_member
from service.db import utcnow
from service.groups.groups import group_of_customer
from service.groups.messages import post_message
from tests.blueprints.dealer_portal.pages_world import PASSWORD
from tests.blueprints.dealer_portal.test_pages import ADMIN, BRAND, RIVAL, _as, world

__all__ = ["world"]  # the fixture

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def talked(session, world):
    """Three days ago at 10:00 Zhang San asked and Li Na answered 20 minutes later; Zhao Lei
    (Tianhe's customer) asked at 10:05 and is waiting still."""
    asked = (utcnow().astimezone(SHANGHAI) - timedelta(days=3)).replace(hour=10, minute=0)
    zhang = group_of_customer(session, world.customers["zhang"].id)
    zhao = group_of_customer(session, world.customers["zhao"].id)
    for at, group, sender, member in (
        (asked, zhang, "customer", None),
        (asked + timedelta(minutes=20), zhang, "member", world.members["admin"].id),
        (asked + timedelta(minutes=5), zhao, "customer", None),
    ):
        with time_machine.travel(at, tick=False):
            post_message(session, group=group, text="Hello", sender=sender,
                         sender_member_id=member)  # fmt: skip
    session.commit()
    return world


def _rows(page: str) -> dict[str, list[str]]:
    table = page.split('service-rows">')[1].split("</table>")[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>', table)
    return {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}


def test_a_dealer_sees_its_members(client, talked):
    response = _as(client, ADMIN).get("/portal/reports/service")
    assert response.status_code == 200
    # Groups, with messages, customer messages, first response, same day, unanswered.
    assert _rows(response.text) == {
        "Li Na": ["1", "1", "1", "20 min", "100%", "0"],
        "Wang Fang": ["1", "0", "0", "—", "—", "0"],
    }
    assert "Huang Wei" not in response.text and "Tianhe" not in response.text
    assert response.text.count('<rect class="median"') == 1  # this week's first response
    assert '<a href="/portal/reports/service" aria-current="page">Service</a>' in response.text


def test_the_brand_sees_every_dealer_and_one_at_a_time(client, talked):
    page = _as(client, BRAND).get("/portal/reports/service").text
    rows = _rows(page)
    assert set(rows) == {"Pudong Store", "Tianhe Store"}
    assert rows["Tianhe Store"][-1] == "1"  # Zhao Lei waits
    assert "the longest has waited" in page
    tianhe = talked.members["rival"].organisation_id
    one = _as(client, BRAND).get(f"/portal/reports/service?dealer={tianhe}").text
    assert set(_rows(one)) == {"Tianhe Store"}


def test_another_dealer_sees_only_its_own(client, talked):
    page = _as(client, RIVAL).get("/portal/reports/service").text
    assert set(_rows(page)) == {"Huang Wei"}
    assert "Li Na" not in page and "Pudong" not in page


def test_a_factory_has_no_service_report(client, session, talked):
    add_member(session, chain_id=talked.factories["foshan"].chain_id,
               organisation_id=talked.factories["foshan"].id, name="Qian Hui", role="admin",
               email="qian.hui@foshan.example", password=PASSWORD)  # fmt: skip
    session.commit()
    client = _as(client, "qian.hui@foshan")
    assert client.get("/portal/reports/service").status_code == 404
    assert 'class="tabs"' not in client.get("/portal/reports").text


def test_a_period_that_cannot_be_is_refused_under_its_field(client, talked):
    backwards = _as(client, ADMIN).get("/portal/reports/service?start=2027-04-01&end=2027-03-01")
    assert backwards.status_code == 422
    assert '<span class="field-error">After the last day.</span>' in backwards.text
    assert _as(client, BRAND).get("/portal/reports/service?dealer=nonsense").status_code == 422


def test_in_chinese(client, talked):
    _as(client, ADMIN)
    page = client.get("/portal/reports/service", headers={"Accept-Language": "zh-CN"}).text
    assert "客户回复情况" in page and "20分钟" in page
