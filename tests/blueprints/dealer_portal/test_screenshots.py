"""The main pages of the demo chain in a real browser, on a desktop and on a phone, in Chinese
and in English: each shows its heading in the language asked for, and none scrolls sideways.

With PORTAL_SHOTS=<directory> each page is saved there; `make screenshots` keeps them in
docs/screenshots/, where the README shows them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.customers.links import create_link
from service.customers.models import Customer
from service.demo import DEMO_PASSWORD, seed_demo
from service.groups.models import DeliveryGroup
from service.orders.models import Order

SHOTS = os.environ.get("PORTAL_SHOTS")
LOGIN = "li.na@pudong.example"  # the demo's Pudong store admin
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# (name, path with the demo's ids, the heading in Chinese, in English)
PAGES = [
    ("attention", "/portal/", None, None),
    ("customers", "/portal/customers", "客户", "Customers"),
    ("customer", "/portal/customers/{customer}", "张伟", "张伟"),
    ("orders", "/portal/orders", "订单", "Orders"),
    ("order", "/portal/orders/{order}", "SO-2026-0001", "SO-2026-0001"),
    ("group", "/portal/groups/{group}", None, None),
    ("directory", "/portal/directory", "通讯录", "Shared directory"),
    ("team", "/portal/team", "团队", "Team"),
    ("reports", "/portal/reports", "工厂交付情况", "How the factories deliver"),
    ("service-report", "/portal/reports/service", "客户回复情况", "How customers are answered"),
]


def _seed(session) -> dict[str, str]:
    demo = seed_demo(session)
    customer = session.scalar(select(Customer).where(Customer.chain_id == demo.chain.id))
    order = session.scalar(select(Order).where(Order.customer_id == customer.id))
    group = session.scalar(select(DeliveryGroup).where(DeliveryGroup.customer_id == customer.id))
    _, token = create_link(session, chain_id=demo.chain.id, customer_id=customer.id)
    session.commit()
    return {"customer": customer.id, "order": order.id, "group": group.id, "token": token}


def _check(page, name: str, locale: str, viewport: str, heading: str | None) -> None:
    if heading:
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    else:
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.lang").lower().startswith(locale[:2])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"{name} scrolls sideways ({width}px)"
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}-{locale}-{viewport}.png", full_page=True)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_main_pages_read_in_both_languages_without_sideways_scrolling(
    browser, live_server, committed, locale, viewport
):
    ids = _seed(committed)
    context = browser.new_context(
        locale=locale, viewport=VIEWPORTS[viewport], extra_http_headers={"Accept-Language": locale}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/portal/login")
        _check(page, "login", locale, viewport, None)
        page.locator("input[name=login]").fill(LOGIN)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").click()
        expect(page.locator("header")).to_contain_text("李娜")
        for name, path, zh, en in PAGES:
            page.goto(live_server + path.format(**ids))
            _check(page, name, locale, viewport, zh if locale == "zh-CN" else en)
        # The customer's own view needs no account.
        context.clear_cookies()
        page.goto(f"{live_server}/c/{ids['token']}")
        _check(page, "customer-link", locale, viewport, None)
    finally:
        context.close()
