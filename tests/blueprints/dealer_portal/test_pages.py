"""The customer and order pages, through the test client: what each reader sees, finds, adds
and changes, and that nothing of another dealer can be opened or found."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from babel.dates import format_date, format_datetime
from sqlalchemy import func, select

from service.customers.models import AuditEntry, Customer
from service.groups.groups import add_group_member, group_of_customer
from service.orders.promises import change_promise
from service.progress.models import TimelineEntry
from tests.blueprints.dealer_portal.pages_world import PASSWORD, build_world
from tests.blueprints.dealer_portal.test_portal import _csrf


@pytest.fixture
def world(session):
    return build_world(session)


def _log_in(client, email):
    form = client.get("/portal/login")
    response = client.post(
        "/portal/login", data={"login": email, "password": PASSWORD, "csrf_token": _csrf(form)}
    )
    assert response.status_code == 302


def _as(client, who: str):
    _log_in(client, f"{who}.example")
    return client


ADMIN = "li.na@pudong"
SPECIALIST = "wang.fang@pudong"
RIVAL = "huang.wei@tianhe"
BRAND = "ma.lin@acme"


def _names(page: str) -> list[str]:
    return re.findall(r'<a class="row-title" href="[^"]+">([^<]+)</a>', page)


def test_an_admin_lists_the_whole_dealer_and_only_it(client, world):
    page = _as(client, ADMIN).get("/portal/customers").text
    assert _names(page) == ["Chen Jing", "Zhang San"]  # newest first
    assert "139 1234 5678" in page  # their own dealer's: whole, as the Team page writes it
    assert "Zhao Lei" not in page


def test_an_admin_may_narrow_the_list_to_their_own_customers(client, world):
    page = _as(client, ADMIN).get("/portal/customers?mine=1").text
    assert _names(page) == ["Zhang San"]


def test_a_specialist_lists_the_customers_they_own(client, world):
    page = _as(client, SPECIALIST).get("/portal/customers").text
    assert _names(page) == ["Chen Jing"]


def test_the_brand_sees_every_dealer_with_mobiles_masked(client, world):
    page = _as(client, BRAND).get("/portal/customers").text
    assert set(_names(page)) == {"Zhang San", "Chen Jing", "Zhao Lei"}
    assert "139****5678" in page and "+8613912345678" not in page


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("zhang", ["Zhang San"]),
        ("NG SA", ["Zhang San"]),
        ("139 1234 5678", ["Zhang San"]),
        ("+86-139-1234-5678", ["Zhang San"]),
        ("0086 139 1234 5678", ["Zhang San"]),
        ("(139) 1234-5678", ["Zhang San"]),
        ("5678", ["Zhang San"]),
        ("1111", ["Chen Jing"]),
        ("678", []),  # fewer than four digits match no mobile
        ("vip", ["Zhang San"]),
        ("bed", ["Chen Jing"]),
        ("Zhao", []),  # another dealer's: never found
        ("5555 6666", []),
        ("%", []),
    ],
)
def test_search_finds_by_name_mobile_in_any_format_or_tag(client, world, query, found):
    page = _as(client, ADMIN).get("/portal/customers", query_string={"q": query}).text
    assert _names(page) == found


def _add(client, **fields):
    token = _csrf(client.get("/portal/customers/new"))
    return client.post("/portal/customers/new", data={"csrf_token": token, **fields})


def test_adding_a_customer_makes_them_the_readers_at_their_dealer(client, world, session):
    _as(client, SPECIALIST)
    response = _add(client, name="Sun Li", mobile="138 0013 8000", tags="sofa， new")
    assert response.status_code == 302
    customer = session.scalar(select(Customer).where(Customer.name == "Sun Li"))
    assert response.headers["Location"] == f"/portal/customers/{customer.id}"
    assert customer.mobile == "+8613800138000"
    assert customer.dealer_id == world.members["specialist"].organisation_id
    assert customer.owner_member_id == world.members["specialist"].id
    assert customer.tags == ["sofa", "new"]
    assert 'name="owner"' not in client.get("/portal/customers/new").text  # not theirs to pick


def test_an_admin_may_add_a_customer_for_a_colleague(client, world, session):
    _as(client, ADMIN)
    specialist = world.members["specialist"]
    response = _add(client, name="Sun Li", mobile="13800138000", owner=str(specialist.id))
    assert response.status_code == 302
    customer = session.scalar(select(Customer).where(Customer.name == "Sun Li"))
    assert customer.owner_member_id == specialist.id


def test_an_admin_cannot_give_a_customer_to_another_dealers_member(client, world, session):
    _as(client, ADMIN)
    response = _add(
        client, name="Sun Li", mobile="13800138000", owner=str(world.members["rival"].id)
    )
    assert response.status_code == 422
    assert session.scalar(select(Customer).where(Customer.name == "Sun Li")) is None


def test_a_known_mobile_of_ones_own_links_to_that_customer(client, world, session):
    _as(client, ADMIN)
    response = _add(client, name="Zhang San", mobile="+86 139-1234-5678")
    assert response.status_code == 422
    zhang = world.customers["zhang"]
    assert f'href="/portal/customers/{zhang.id}">Zhang San</a>' in response.text
    assert session.scalar(select(Customer).where(Customer.mobile == "+8613912345678")) == zhang


def test_a_known_mobile_of_a_colleague_says_so_without_naming_them(client, world):
    _as(client, SPECIALIST)
    response = _add(client, name="Someone", mobile="13912345678")
    assert response.status_code == 422
    assert "a customer of a colleague at your store" in response.text
    assert "Zhang San" not in response.text and "Li Na" not in response.text


def test_a_known_mobile_of_another_dealer_says_so_without_naming_them(client, world):
    _as(client, ADMIN)
    response = _add(client, name="Someone", mobile="137 5555 6666")
    assert response.status_code == 422
    assert "a customer of another dealer" in response.text
    assert "Zhao Lei" not in response.text and "Tianhe" not in response.text


def test_a_mobile_that_is_no_number_is_refused_under_its_field(client, world):
    _as(client, ADMIN)
    response = _add(client, name="Sun Li", mobile="not a number")
    assert response.status_code == 422
    assert '<span class="field-error">Not a phone number.</span>' in response.text


def test_the_customer_page_shows_mobile_orders_group_and_link(client, world, session):
    zhang = world.customers["zhang"]
    page = _as(client, ADMIN).get(f"/portal/customers/{zhang.id}").text
    assert '<a href="tel:+8613912345678">139 1234 5678</a>' in page
    assert "sofa" in page and "vip" in page
    assert f'href="/portal/orders/{world.orders["SO-1"].id}">SO-1</a>' in page
    group = group_of_customer(session, zhang.id)
    assert f'href="/portal/groups/{group.id}"' in page
    assert "Customer link" in page
    assert "Change the owner" in page


def test_the_brand_sees_a_masked_mobile_and_no_way_to_call(client, world):
    page = _as(client, BRAND).get(f"/portal/customers/{world.customers['zhang'].id}").text
    assert "139****5678" in page and "tel:" not in page
    assert "Change the owner" not in page


def _change_owner(client, customer, to):
    token = _csrf(client.get(f"/portal/customers/{customer.id}"))
    return client.post(
        f"/portal/customers/{customer.id}/owner", data={"csrf_token": token, "owner": str(to.id)}
    )


def test_an_admin_hands_a_customer_and_their_group_to_a_colleague(client, world, session):
    zhang, specialist = world.customers["zhang"], world.members["specialist"]
    response = _change_owner(_as(client, ADMIN), zhang, specialist)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Customer, zhang.id).owner_member_id == specialist.id
    assert group_of_customer(session, zhang.id).owner_member_id == specialist.id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "owner_change"))
    assert entry.actor == f"member:{world.members['admin'].id}"
    assert "Wang Fang" in client.get(f"/portal/customers/{zhang.id}").text


def test_the_owner_may_hand_their_customer_over(client, world, session):
    chen, admin = world.customers["chen"], world.members["admin"]
    assert _change_owner(_as(client, SPECIALIST), chen, admin).status_code == 302
    session.expire_all()
    assert session.get(Customer, chen.id).owner_member_id == admin.id


def test_someone_seated_but_not_the_owner_may_not_change_the_owner(client, world, session):
    zhang, specialist = world.customers["zhang"], world.members["specialist"]
    group = group_of_customer(session, zhang.id)
    add_group_member(session, chain_id=zhang.chain_id, group_id=group.id, member_id=specialist.id)
    session.commit()
    _as(client, SPECIALIST)
    assert "Zhang San" in client.get(f"/portal/customers/{zhang.id}").text
    token = _csrf(client.get("/portal/customers"))
    response = client.post(
        f"/portal/customers/{zhang.id}/owner",
        data={"csrf_token": token, "owner": str(specialist.id)},
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Customer, zhang.id).owner_member_id == world.members["admin"].id


def test_the_new_owner_must_be_a_member_of_the_dealer(client, world, session):
    zhang = world.customers["zhang"]
    response = _change_owner(_as(client, ADMIN), zhang, world.members["rival"])
    assert response.status_code == 422
    session.expire_all()
    assert session.get(Customer, zhang.id).owner_member_id == world.members["admin"].id


def _references(page: str) -> list[str]:
    return _names(page)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({}, ["SO-2", "SO-1"]),
        ({"milestone": "received"}, ["SO-2"]),
        ({"milestone": "in_production"}, ["SO-1"]),  # an order is as far as its least item
        ({"milestone": "shipped"}, []),
        ({"late": "1"}, ["SO-1"]),
        ({"customer": "chen"}, ["SO-2"]),
        ({"factory": "foshan"}, ["SO-1"]),
        ({"factory": "dongguan"}, ["SO-2", "SO-1"]),
    ],
)
def test_the_order_list_filters(client, world, query, found):
    ids = {"chen": world.customers["chen"].id, **{k: v.id for k, v in world.factories.items()}}
    query = {k: str(ids.get(v, v)) for k, v in query.items()}
    page = _as(client, ADMIN).get("/portal/orders", query_string=query).text
    assert _references(page) == found


def test_the_order_list_marks_late_orders_and_offers_only_their_factories(client, world):
    page = _as(client, ADMIN).get("/portal/orders").text
    assert page.count('<span class="late">Late</span>') == 1
    assert "Foshan Works" in page and "Dongguan Textiles" in page
    rival = _as(client.application.test_client(), RIVAL).get("/portal/orders").text
    assert _references(rival) == ["SO-9"]
    assert "Dongguan Textiles" not in rival  # makes nothing of theirs


def test_an_order_past_its_promise_is_late_too(client, world, session):
    order = world.orders["SO-2"]  # no ETA has passed
    with time_machine.travel(order.created_at, tick=False):
        change_promise(session, chain_id=order.chain_id, order_id=order.id,
                       promised_at=order.created_at + timedelta(days=2), reason="")  # fmt: skip
    session.commit()
    page = _as(client, ADMIN).get("/portal/orders", query_string={"late": "1"}).text
    assert _references(page) == ["SO-2", "SO-1"]


def test_an_unknown_milestone_filter_is_refused(client, world):
    assert _as(client, ADMIN).get("/portal/orders?milestone=lost").status_code == 422
    assert client.get("/portal/orders?factory=not-an-id").status_code == 422


def test_the_order_page_draws_each_items_timeline(client, world):
    page = _as(client, ADMIN).get(f"/portal/orders/{world.orders['SO-1'].id}").text
    assert page.count('<svg class="timeline"') == 2
    assert "<title id=" in page and "<desc id=" in page
    assert page.count('class="late-mark"') == 1  # the late "designed" report
    assert page.count('<g class="eta">') == 2
    assert "Foshan Works" in page and "Dongguan Textiles" in page
    assert page.count('<tr class="late-row">') == 1
    assert "Drawings signed" in page and "On the line" in page
    # The sofa frame is past its ETA, not completed: late.
    frame = page.split('<section class="work-item"')[1]
    assert '<span class="late">Late</span>' in frame
    cushions = page.split('<section class="work-item"')[2]
    assert '<span class="late">Late</span>' not in cushions


def test_the_order_page_shows_each_items_promise_and_its_changes(client, world, session):
    order = world.orders["SO-1"]
    _frame, cushions = order.items
    promised, own = order.created_at + timedelta(days=30), order.created_at + timedelta(days=40)
    change_promise(session, chain_id=order.chain_id, order_id=order.id, promised_at=promised,
                   reason="")  # fmt: skip
    change_promise(session, chain_id=order.chain_id, order_id=order.id, work_item_id=cushions.id,
                   promised_at=own, reason="fabric from Italy")  # fmt: skip
    session.commit()
    page = _as(client, ADMIN).get(f"/portal/orders/{order.id}").text
    shanghai = ZoneInfo("Asia/Shanghai")
    order_day, own_day = (format_date(d.astimezone(shanghai), locale="en") for d in (promised, own))
    facts, frame_part, cushions_part = page.split('<section class="work-item"')
    assert f"<dd>{order_day}</dd>" in facts
    assert order_day in frame_part and "(the order's)" in frame_part
    assert own_day in cushions_part and "(the order's)" not in cushions_part
    assert page.count('<g class="promise">') == 2
    assert "fabric from Italy" in cushions_part and f"Promised by {own_day}" in cushions_part
    marks = cushions_part.count('<circle class="mark"') + cushions_part.count('"late-mark"')
    reports = session.scalar(
        select(func.count()).where(
            TimelineEntry.work_item_id == cushions.id, TimelineEntry.kind == "milestone"
        )
    )
    assert marks == reports  # the promise's change is in the table, not a report's mark


def test_times_are_shown_in_the_chains_time_zone(client, world):
    order = world.orders["SO-1"]
    page = _as(client, ADMIN).get(f"/portal/orders/{order.id}").text
    shanghai = format_datetime(order.created_at, "short", tzinfo=ZoneInfo("Asia/Shanghai"))
    utc = format_datetime(order.created_at, "short", tzinfo=ZoneInfo("UTC"))
    assert f"<dd>{shanghai}</dd>" in page and utc not in page
    page = client.get(f"/portal/orders/{order.id}", headers={"Accept-Language": "zh-CN"}).text
    shanghai = format_datetime(
        order.created_at, "short", tzinfo=ZoneInfo("Asia/Shanghai"), locale="zh_CN"
    )
    assert f"<dd>{shanghai}</dd>" in page


def test_another_dealers_member_opens_nothing_of_this_dealer(client, world):
    zhang, order = world.customers["zhang"], world.orders["SO-1"]
    _as(client, RIVAL)
    assert client.get(f"/portal/customers/{zhang.id}").status_code == 404
    assert client.get(f"/portal/orders/{order.id}").status_code == 404
    token = _csrf(client.get("/portal/customers"))
    response = client.post(
        f"/portal/customers/{zhang.id}/owner",
        data={"csrf_token": token, "owner": str(world.members["rival"].id)},
    )
    assert response.status_code == 404
    assert _names(client.get("/portal/customers").text) == ["Zhao Lei"]
    assert _names(client.get("/portal/customers?q=5678").text) == []
    assert _names(client.get(f"/portal/orders?customer={zhang.id}").text) == []


def test_a_specialist_opens_no_colleagues_customer_or_order(client, world):
    _as(client, SPECIALIST)
    assert client.get(f"/portal/customers/{world.customers['zhang'].id}").status_code == 404
    assert client.get(f"/portal/orders/{world.orders['SO-1'].id}").status_code == 404
    assert client.get(f"/portal/orders/{world.orders['SO-2'].id}").status_code == 200


def test_the_pages_need_a_login(client, world):
    for path in ("/portal/customers", "/portal/orders", "/portal/customers/new"):
        assert client.get(path).status_code == 302


# The portal's routes that name a row by id, and which of this dealer's rows to try them with.
# A new route with an id it does not know fails the test below until it is added here.
def test_the_brand_adds_no_customer_through_the_portal(client, world, session):
    _as(client, BRAND)
    assert "Add a customer" not in client.get("/portal/customers").text
    assert client.get("/portal/customers/new").status_code == 404
    response = client.post(
        "/portal/customers/new",
        data={"csrf_token": _csrf(client.get("/portal/customers")), "name": "X",
              "mobile": "13800138000"},
    )  # fmt: skip
    assert response.status_code == 404
    assert session.scalar(select(Customer).where(Customer.mobile == "+8613800138000")) is None


def test_the_owner_makes_a_customer_link_shown_once_that_opens_the_customers_view(client, world):
    zhang = world.customers["zhang"]
    _as(client, ADMIN)  # Zhang San's owner
    token = _csrf(client.get(f"/portal/customers/{zhang.id}"))
    made = client.post(f"/portal/customers/{zhang.id}/links", data={"csrf_token": token})
    assert made.status_code == 201
    url = re.search(r'<code class="secret">([^<]+)</code>', made.text).group(1)
    assert "/c/" in url
    assert "/c/" not in client.get(f"/portal/customers/{zhang.id}").text  # shown once
    opened = client.get(url[url.index("/c/") :])
    assert opened.status_code == 200 and zhang.name in opened.text


def test_the_brand_makes_no_customer_link_in_the_portal(client, world):
    zhang = world.customers["zhang"]
    _as(client, BRAND)
    page = client.get(f"/portal/customers/{zhang.id}")
    assert "Make a new link" not in page.text
    made = client.post(f"/portal/customers/{zhang.id}/links", data={"csrf_token": _csrf(page)})
    assert made.status_code in (403, 404)
