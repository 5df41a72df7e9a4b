"""The customer's link in a real browser on a phone (390×844), against a live server and
committed data, in both languages: the progress stepper, a message the brand's API posts
appearing without a reload, a reply, a blocked word refused with its reason in sight, and a
revoked link turning into the plain page that says so; never a sideways scroll."""

from __future__ import annotations

import os

import httpx
import pytest
from playwright.sync_api import expect

from service.chain.chains import issue_api_key
from service.customers.links import create_link
from service.groups.templates import create_template
from tests.service.customers.chain_world import build_chain_world

SHOTS = os.environ.get("PORTAL_SHOTS")  # a directory: screenshots of the page are saved there
TEXTS = {
    "zh-CN": {"box": "输入消息", "send": "发送", "hello": "王芳，您好",
              "blocked": "包含禁用词“微信”。", "closed": "此链接无法打开", "withdrawn": "已停用",
              "you": "我"},
    "en": {"box": "Your message", "send": "Send", "hello": "Hello, 王芳",
           "blocked": "Contains the blocked word “微信”.", "closed": "This link does not open",
           "withdrawn": "withdrawn", "you": "You"},
}  # fmt: skip


def _seed(session):
    world = build_chain_world(session, "Acme Home")
    create_template(
        session,
        chain_id=world.id,
        directory_group_id=None,
        welcome_message="您好 {customer_name}，我是您的专属顾问 {owner_name}。",
        blocked_words=[{"word": "微信", "action": "block"}],
    )
    customer = world.customer("王芳")
    _order, group = world.order(customer)
    link, token = create_link(session, chain_id=world.id, customer_id=customer.id)
    _, key = issue_api_key(session, chain_id=world.id, name="test")
    session.commit()
    return world, group, link, token, {"Authorization": f"Bearer {key}"}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_link_on_a_phone_is_live_replies_and_stops_when_revoked(
    browser, live_server, committed, locale
):
    world, group, link, token, api = _seed(committed)
    words = TEXTS[locale]
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/c/{token}")
        expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
        expect(page.locator("ol.stepper").first.locator("li[aria-current=step]")).to_have_count(1)
        messages = page.locator("#messages")
        expect(messages).to_contain_text("您好 王芳")
        page.evaluate("window.notReloaded = true")

        answer = httpx.post(
            f"{live_server}/api/v1/groups/{group.id}/messages",
            headers=api,
            json={"sender": "member", "sender_member_id": str(world.owner.id),
                  "text": "您的衣柜明天上午送到，方便吗？"},
        )  # fmt: skip
        assert answer.status_code == 201
        expect(messages.locator(".message").last).to_contain_text("明天上午送到")
        expect(messages.locator(".message").last).to_contain_text(world.owner.name)

        box = page.get_by_label(words["box"])
        box.fill("方便，我在家")
        page.get_by_role("button", name=words["send"]).click()
        mine = messages.locator(".message-mine").last
        expect(mine).to_contain_text("方便，我在家")
        expect(mine).to_contain_text(words["you"])
        expect(box).to_have_value("")

        box.fill("加我微信聊")
        page.get_by_role("button", name=words["send"]).click()
        expect(page.locator(".compose .field-error")).to_have_text(words["blocked"])
        assert page.evaluate("window.notReloaded") is True
        assert _fits(page)
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"link-{locale}-390.png"), full_page=True)

        revoked = httpx.delete(f"{live_server}/api/v1/customer-links/{link.id}", headers=api)
        assert revoked.status_code == 200
        # The stream ends, the next is refused, and the page shows why.
        expect(page.get_by_role("heading", level=1)).to_have_text(words["closed"])
        expect(page.locator("main")).to_contain_text(words["withdrawn"])
        expect(page.locator("main")).not_to_contain_text("明天上午送到")
        assert _fits(page)
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"link-revoked-{locale}-390.png"))
    finally:
        context.close()
