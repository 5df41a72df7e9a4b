"""What needs attention in a real browser (Simplified Chinese), against a live server and
committed data: the count in the navigation, a customer waiting and a late work item, and the
way from there to the group; the page on a phone."""

from __future__ import annotations

import os
from datetime import timedelta

import time_machine
from playwright.sync_api import expect

from service.db import utcnow
from service.groups.groups import group_of_customer
from service.groups.messages import post_message
from tests.blueprints.dealer_portal.pages_world import build_world
from tests.blueprints.dealer_portal.test_pages_browser import _sign_in

SHOTS = os.environ.get("PORTAL_SHOTS")  # a directory: screenshots of the page are saved there


def _seed(session):
    world = build_world(session)
    group = group_of_customer(session, world.customers["zhang"].id)
    with time_machine.travel(utcnow() - timedelta(minutes=42), tick=False):
        post_message(session, group=group, text="师傅什么时候来安装？", sender="customer")
    session.commit()
    return world, group


def test_a_dealer_sees_what_waits_and_goes_to_the_group(page, live_server, committed):
    _world, group = _seed(committed)
    _sign_in(page, live_server)

    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="待处理 2 项")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("待处理")
    waiting = page.get_by_role("region", name="等待回复的客户")
    expect(waiting).to_contain_text("1 条新消息")
    expect(waiting).to_contain_text("已等待 42分钟")
    late = page.get_by_role("region", name="已延期或一天内到期的版件")
    expect(late).to_contain_text("Sofa frame × 1")
    expect(late).to_contain_text("已延期")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/attention-zh.png", full_page=True)

    waiting.get_by_role("link", name=group.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(group.name)
    expect(page.locator("#messages")).to_contain_text("师傅什么时候来安装？")


def test_the_attention_page_fits_a_phone_screen(browser, live_server, committed):
    world, _group = _seed(committed)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, live_server)
    admin = world.members["admin"]
    for language in ("zh-CN", "en"):
        admin.language = language  # as chosen under Settings
        committed.commit()
        for path in ("/portal/", f"/portal/orders/{world.orders['SO-1'].id}"):
            page.goto(f"{live_server}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, (language, path)
            if SHOTS:
                name = "attention" if path == "/portal/" else "order"
                page.screenshot(path=f"{SHOTS}/{name}-phone-{language}.png", full_page=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Order SO-1")
    context.close()
