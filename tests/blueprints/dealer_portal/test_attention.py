"""The page of what needs attention and its count in the navigation, and booking an order's
installation from the order page, through the test client in both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from blueprints.dealer_portal.attention import waited
from service.db import utcnow
from service.groups.groups import group_of_customer
from service.groups.messages import post_message
from service.orders.models import Order
from tests.blueprints.dealer_portal.pages_world import build_world
from tests.blueprints.dealer_portal.test_pages import ADMIN, BRAND, RIVAL, SPECIALIST, _as
from tests.blueprints.dealer_portal.test_portal import _csrf


@pytest.fixture
def world(session):
    world = build_world(session)
    group = group_of_customer(session, world.customers["zhang"].id)
    with time_machine.travel(utcnow() - timedelta(hours=2, minutes=5), tick=False):
        post_message(session, group=group, text="When do you come?", sender="customer")
    session.commit()
    world.group = group
    return world


def _badge(page: str) -> str | None:
    found = re.search(r'<span class="badge">(\d+\+?)<', page)
    return found.group(1) if found else None


def test_an_admin_sees_the_waiting_customer_and_the_late_item_with_the_count(client, world):
    page = _as(client, ADMIN).get("/portal/").text
    assert "Customers waiting for an answer" in page
    assert f'href="/portal/groups/{world.group.id}"' in page
    assert "1 new message" in page and "waiting 2 hr 5 min" in page
    assert "Work items late or due within a day" in page
    assert "Sofa frame × 1" in page and "SO-1" in page
    assert _badge(page) == "2"  # one group waiting, one item late
    # The count is in the navigation of every page.
    assert _badge(client.get("/portal/customers").text) == "2"


def test_the_page_speaks_chinese(client, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = _as(client, ADMIN).get("/portal/").text
    assert "<h1>待处理</h1>" in page
    assert "等待回复的客户" in page and "已等待 2小时5分钟" in page and "1 条新消息" in page
    assert "已延期或一天内到期的版件" in page


def test_a_specialist_sees_only_their_own_and_a_friendly_line_when_nothing_waits(client, world):
    page = _as(client, SPECIALIST).get("/portal/").text
    assert "Sofa frame" not in page and str(world.group.id) not in page
    assert "Nothing needs your attention right now." in page
    assert _badge(page) is None


def test_an_admin_narrows_it_to_their_own_customers(client, world):
    _as(client, ADMIN)
    assert "Only my customers" in client.get("/portal/").text
    page = client.get("/portal/?mine=1").text
    assert "Sofa frame" in page  # Zhang San is theirs


def test_another_dealer_sees_nothing_of_it(client, world):
    page = _as(client, RIVAL).get("/portal/").text
    assert "Sofa frame" not in page and str(world.group.id) not in page
    assert "Nothing needs your attention right now." in page


def _book(client, order, date, time):
    page = client.get(f"/portal/orders/{order.id}")
    return client.post(
        f"/portal/orders/{order.id}/installation",
        data={"date": date, "time": time, "save": "1", "csrf_token": _csrf(page)},
    )


def test_an_installation_booked_on_the_order_page_is_listed_for_today(client, world, session):
    order = world.orders["SO-1"]
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    _as(client, ADMIN)
    assert "Installation appointment" in client.get(f"/portal/orders/{order.id}").text

    response = _book(client, order, today.isoformat(), "23:59")
    assert response.status_code == 302
    session.expire_all()
    booked = session.get(Order, order.id).installation_at
    assert booked.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") == "23:59"
    page = client.get("/portal/").text
    assert "Installations today and tomorrow" in page and "Today" in page
    assert _badge(page) == "3"

    page = client.get(f"/portal/orders/{order.id}")
    response = client.post(
        f"/portal/orders/{order.id}/installation", data={"clear": "1", "csrf_token": _csrf(page)}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Order, order.id).installation_at is None


@pytest.mark.parametrize(
    ("date", "time", "reason"),
    [
        ("2999-01-01", "09:00", "More than two years ahead."),
        ("2000-01-01", "09:00", "Before the order was placed."),
        ("", "09:00", "This field is required."),
        ("31/02/2027", "09:00", "Not a valid date value."),
    ],
)
def test_a_wrong_appointment_is_refused_with_the_reason_and_nothing_saved(
    client, world, session, date, time, reason
):
    order = world.orders["SO-1"]
    response = _as(client, ADMIN) and _book(client, order, date, time)
    assert response.status_code == 422
    assert reason in response.text and 'aria-invalid="true"' in response.text
    session.expire_all()
    assert session.get(Order, order.id).installation_at is None


def test_a_wrong_appointment_is_refused_in_chinese(client, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    response = _as(client, ADMIN) and _book(client, world.orders["SO-1"], "2999-01-01", "09:00")
    assert response.status_code == 422 and "晚于两年之后。" in response.text


def test_the_brand_reads_the_order_but_books_nothing(client, world, session):
    order = world.orders["SO-1"]
    page = _as(client, BRAND).get(f"/portal/orders/{order.id}").text
    assert "Installation appointment" not in page
    response = client.post(
        f"/portal/orders/{order.id}/installation",
        data={"date": "2027-01-01", "time": "09:00", "save": "1", "csrf_token": _csrf_of(client)},
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Order, order.id).installation_at is None


def _csrf_of(client) -> str:
    return _csrf(client.get("/portal/settings"))


@pytest.mark.parametrize(
    ("language", "delta", "shown"),
    [
        ("en", timedelta(seconds=59), "less than a minute"),
        ("en", timedelta(hours=1), "1 hr"),
        ("en", timedelta(days=1, hours=3, minutes=4), "1 day 3 hr"),
        ("zh-CN", timedelta(minutes=7), "7分钟"),
        ("zh-CN", timedelta(seconds=5), "不到 1 分钟"),
    ],
)
def test_how_long_someone_waited_reads_naturally(bound_app, language, delta, shown):
    with bound_app.test_request_context("/portal/", headers={"Accept-Language": language}):
        assert waited(delta) == shown
