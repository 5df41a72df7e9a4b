"""A factory's progress webhook, posted while the customer's group is open in a real browser:
the milestone's notification appears in the page without a reload, in the chain's language."""

from __future__ import annotations

import json
import time
import uuid

import httpx
from playwright.sync_api import expect

from service.chain.members import hash_password
from service.chain.organisations import add_organisation
from service.orders.orders import ItemRequest
from tests.blueprints.factory_webhooks.test_progress_webhook import sign
from tests.service.customers.chain_world import build_chain_world

PASSWORD = "correct horse"


def _seed(session):
    world = build_chain_world(session, "栖木家居", factories=False)
    world.owner.email = "li.wei@bund.example"
    world.owner.password_hash = hash_password(PASSWORD)
    factory, secret = add_organisation(
        session, chain_id=world.id, kind="factory", name="华东板材厂"
    )
    item = ItemRequest(factory_id=factory.id, description="衣柜门板", quantity=2)
    order, group = world.order(world.customer("王芳"), items=[item])
    session.commit()
    return factory, secret, order.items[0], group


def _report(live_server, factory, secret, work_item, milestone):
    body = json.dumps({"work_item": str(work_item.id), "milestone": milestone}).encode()
    webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    return httpx.post(
        f"{live_server}/webhooks/factories/{factory.id}/progress",
        content=body,
        headers={
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
        },
    )


def test_a_factory_webhook_shows_its_milestone_in_the_open_chat_page(page, live_server, committed):
    factory, secret, work_item, group = _seed(committed)
    path = f"/portal/groups/{group.id}"
    page.goto(f"{live_server}/portal/login?next={path}")
    page.get_by_label("邮箱").fill("li.wei@bund.example")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{path}")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("王芳")
    notices_before = messages.locator(".message-system").count()
    page.evaluate("window.notReloaded = true")

    assert _report(live_server, factory, secret, work_item, "shipped").status_code == 202

    notice = messages.locator(".message-system").nth(notices_before)
    expect(notice).to_contain_text("已发货")
    expect(notice).to_contain_text("衣柜门板")
    expect(notice).to_contain_text("进度通知")  # styled apart from people's messages
    assert page.evaluate("window.notReloaded") is True

    # The order's page, opened now, shows the milestone the factory reported.
    page.goto(f"{live_server}/portal/orders/{work_item.order_id}")
    expect(page.locator("main")).to_contain_text("已发货")
