"""The delivery group's page in a real browser, against a live server and committed data: a
message the brand's API posts appears without a reload; the member's own message is sent
without leaving the page; a blocked word is refused with its reason beside the box."""

from __future__ import annotations

import os

import httpx
import pytest
from playwright.sync_api import expect

from service.chain.chains import issue_api_key
from service.chain.members import hash_password
from service.db import utcnow
from service.groups.templates import create_template
from service.portal.access import Reader
from service.portal.attention import attention
from tests.service.customers.chain_world import build_chain_world

PASSWORD = "correct horse"
SHOTS = os.environ.get("PORTAL_SHOTS")  # a directory: screenshots of the page are saved there


def _seed(session):
    world = build_chain_world(session, "Acme Home")
    world.owner.email = "li.wei@bund.example"
    world.owner.password_hash = hash_password(PASSWORD)
    create_template(
        session,
        chain_id=world.id,
        directory_group_id=None,
        welcome_message="您好 {customer_name}，我是您的专属顾问 {owner_name}。",
        blocked_words=[{"word": "微信", "action": "block"}],
        auto_replies=[{"keyword": "安装", "reply": "安装师傅会在24小时内联系您"}],
    )
    _order, group = world.order(world.customer("王芳"))
    _, key = issue_api_key(session, chain_id=world.id, name="test")
    session.commit()
    return world, group, key


def _sign_in(page, live_server, next_path):
    page.goto(f"{live_server}/portal/login?next={next_path}")
    page.get_by_label("邮箱").fill("li.wei@bund.example")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{next_path}")


def test_a_message_posted_through_the_api_appears_in_the_open_page(page, live_server, committed):
    world, group, key = _seed(committed)
    path = f"/portal/groups/{group.id}"
    _sign_in(page, live_server, path)
    expect(page.get_by_role("heading", level=1)).to_have_text(group.name)
    messages = page.locator("#messages")
    expect(messages).to_contain_text("您好 王芳")
    page.evaluate("window.notReloaded = true")

    # The page, visible, marks what it receives read.
    with page.expect_response(lambda r: r.url.endswith("/read") and r.status == 204):
        answer = httpx.post(
            f"{live_server}/api/v1/groups/{group.id}/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"text": "请问什么时候安装？", "sender": "customer"},
        )
        assert answer.status_code == 201

    customer = messages.locator(".message-customer").last
    expect(customer).to_contain_text("请问什么时候安装？")
    expect(customer).to_contain_text("王芳")
    expect(messages.locator(".message-system").last).to_contain_text("安装师傅会在24小时内联系您")
    assert page.evaluate("window.notReloaded") is True
    committed.expire_all()
    assert attention(committed, Reader.of(world.owner), utcnow()).waiting.total == 0
    committed.rollback()  # on SQLite, a transaction of this session would hold the write lock

    box = page.get_by_label("输入消息")
    box.fill("加我微信详聊")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".compose .field-error")).to_have_text("包含禁用词“微信”。")

    box.fill("周五上午上门测量，可以吗？")
    box.press("Control+Enter")
    expect(messages.locator(".message-mine").last).to_contain_text("周五上午上门测量")
    expect(box).to_have_value("")
    assert page.evaluate("window.notReloaded") is True
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "group-zh-1280.png"), full_page=True)


@pytest.mark.parametrize(
    ("locale", "width", "height"), [("zh-CN", 390, 844), ("en", 390, 844), ("en", 1280, 800)]
)
def test_the_page_fits_a_phone_and_reads_in_both_languages(
    browser, live_server, committed, locale, width, height
):
    _world, group, key = _seed(committed)
    for text in ("衣柜什么时候到？", "我想改一下颜色，能换成胡桃木色吗"):
        httpx.post(
            f"{live_server}/api/v1/groups/{group.id}/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"text": text, "sender": "customer"},
        )
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/portal/login?next=/portal/groups/{group.id}")
        page.locator("input[name=login]").fill("li.wei@bund.example")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        expect(page.locator("#messages")).to_contain_text("胡桃木色")
        sideways = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not sideways
        if SHOTS:
            name = f"group-{locale}-{width}.png"
            page.screenshot(path=os.path.join(SHOTS, name), full_page=True)
    finally:
        context.close()


def test_without_event_streams_the_page_polls_for_new_messages(page, live_server, committed):
    _world, group, key = _seed(committed)
    page.add_init_script("delete window.EventSource")  # a browser, or a proxy, without them
    _sign_in(page, live_server, f"/portal/groups/{group.id}")
    page.evaluate("window.notReloaded = true")

    asked = []
    page.on("request", lambda r: asked.append(r.url))
    httpx.post(
        f"{live_server}/api/v1/groups/{group.id}/messages",
        headers={"Authorization": f"Bearer {key}"},
        json={"text": "能换成胡桃木色吗", "sender": "customer"},
    )

    expect(page.locator("#messages .message-customer")).to_contain_text("胡桃木色")
    assert page.evaluate("window.notReloaded") is True
    assert any("/messages?after=" in url for url in asked)
    assert not any("/events" in url for url in asked)
