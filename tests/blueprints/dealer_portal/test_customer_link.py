"""The customer's link: their orders as steps, their group's messages and a reply box, on a
page opened by the token alone; nothing of anyone else; a withdrawn, expired or unknown link
shows a plain page saying so, and guessing is slowed down."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from service.customers.links import create_link, revoke_link
from service.db import utcnow
from service.groups.messages import list_messages
from service.groups.templates import create_template
from service.progress.recording import record_progress
from tests.service.customers.chain_world import build_chain_world


def _csrf(response) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', response.text).group(1)


def world_with_link(session):
    world = build_chain_world(session, "Acme Home")
    create_template(
        session,
        chain_id=world.id,
        directory_group_id=None,
        blocked_words=[{"word": "refund", "action": "block"}],
    )
    customer = world.customer("Wang Fang")
    order, group = world.order(customer, reference="SO-7")
    panels = order.items[0]
    record_progress(
        session, work_item=panels, milestone="shipped", actor="api",
        eta=utcnow() + timedelta(days=1),
    )  # fmt: skip
    stranger = world.customer("Zhang San")
    world.order(stranger, reference="SO-8")
    link, token = create_link(session, chain_id=world.id, customer_id=customer.id)
    session.commit()
    return world, customer, group, link, token


def test_the_link_shows_the_customers_orders_as_steps_and_their_messages(client, session):
    _, _, _, _, token = world_with_link(session)
    page = client.get(f"/c/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Expected on" in page.text and "taking longer" not in page.text
    with time_machine.travel(utcnow() + timedelta(days=3)):
        page = client.get(f"/c/{token}", headers={"Accept-Language": "en"})
    text = page.text
    assert "Hello, Wang Fang" in text and "Order SO-7" in text
    assert 'aria-current="step">Shipped' in text
    assert "taking longer than expected" in text  # its ETA has passed
    assert "Zhang San" not in text and "SO-8" not in text  # another customer's
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in text


def test_the_page_speaks_chinese_to_a_chinese_phone(client, session):
    _, _, _, _, token = world_with_link(session)
    page = client.get(f"/c/{token}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text or 'lang="zh-Hans-CN"' in page.text


def test_a_reply_is_posted_as_the_customer_and_a_blocked_word_is_refused_with_its_reason(
    client, session
):
    _, _, group, _, token = world_with_link(session)
    page = client.get(f"/c/{token}")
    sent = client.post(
        f"/c/{token}", data={"csrf_token": _csrf(page), "text": "When do you install?"}
    )
    assert sent.status_code == 302
    after = client.get(f"/c/{token}")
    assert "When do you install?" in after.text
    refused = client.post(
        f"/c/{token}", data={"csrf_token": _csrf(after), "text": "I want a REFUND"}
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "refund" in refused.text.lower()
    session.expire_all()
    texts = [m.text for m in list_messages(session, group_id=group.id, limit=100).items]
    assert "When do you install?" in texts and not any("REFUND" in t for t in texts)


def test_withdrawn_expired_and_unknown_links_say_so(client, session):
    world, customer, _, link, token = world_with_link(session)
    assert client.get("/c/not-a-token").status_code == 404
    revoke_link(session, chain_id=world.id, customer_id=customer.id, link_id=link.id)
    session.commit()
    withdrawn = client.get(f"/c/{token}", headers={"Accept-Language": "en"})
    assert withdrawn.status_code == 410 and "withdrawn" in withdrawn.text
    assert "Wang Fang" not in withdrawn.text
    _, short = create_link(session, chain_id=world.id, customer_id=customer.id, days=1)
    session.commit()
    with time_machine.travel(utcnow() + timedelta(days=2)):
        expired = client.get(f"/c/{short}", headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "expired" in expired.text


def test_guessing_links_is_slowed_down(client, session):
    world_with_link(session)
    for n in range(30):
        assert client.get(f"/c/guess-{n}").status_code == 404
    limited = client.get("/c/guess-again")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
