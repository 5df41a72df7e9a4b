"""The customer's link: their orders as steps, their group's messages (live: a stream that
replays after Last-Event-ID, and polls) and a reply box, on a page opened by the token alone;
nothing of anyone else, nor the staff's moderation flags; a withdrawn, expired or unknown
link shows a plain page saying so (its stream ends), and guessing is slowed down."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from blueprints.dealer_portal.live import HEARTBEAT, LIFETIME
from service.chain.chains import issue_api_key
from service.customers.links import create_link, revoke_link
from service.db import utcnow
from service.groups.messages import list_messages, post_message
from service.groups.templates import create_template
from service.orders.models import Order
from service.orders.promises import change_promise
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


def test_opening_the_page_notes_when_it_was_opened(client, session):
    _, _, _, link, token = world_with_link(session)
    assert link.last_opened_at is None
    assert client.get(f"/c/{token}").status_code == 200
    session.refresh(link)
    assert link.last_opened_at is not None  # committed, though the page was only read


def test_the_link_shows_the_date_promised_to_the_customer(client, session):
    world, customer, _, _, token = world_with_link(session)
    order = session.scalars(select(Order).where(Order.customer_id == customer.id)).one()
    promised = utcnow() + timedelta(days=20)
    change_promise(session, chain_id=world.id, order_id=order.id, promised_at=promised, reason="")
    session.commit()
    day = promised.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    english = client.get(f"/c/{token}", headers={"Accept-Language": "en"}).text
    assert f"Promised to you by {day}" in english
    chinese = client.get(f"/c/{token}", headers={"Accept-Language": "zh-CN"}).text
    assert f"约定于 {day} 前为您交付" in chinese


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


def _events(stream: bytes) -> list[dict]:
    events = []
    for block in stream.decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and ": " in line[:6]
        )
        if "id" in fields:
            events.append({"id": fields["id"], **json.loads(fields["data"])})
    return events


def _says(session, group, text: str):
    return post_message(session, group=group, text=text, sender="customer")[0][0]


def _api_key(session, world) -> dict:
    _, key = issue_api_key(session, chain_id=world.id, name="test")
    session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_the_links_stream_replays_every_message_after_the_last_it_got(
    client, app, session, monkeypatch
):
    monkeypatch.setitem(app.config, LIFETIME, 0)  # the replay, then the stream ends
    _, _, group, _, token = world_with_link(session)
    first = _says(session, group, "第一条")
    later = [_says(session, group, text) for text in "二三"]
    session.commit()

    answer = client.get(f"/c/{token}/events", headers={"Last-Event-ID": str(first.id)})

    assert answer.mimetype == "text/event-stream" and answer.data.startswith(b"retry: ")
    events = _events(answer.data)
    assert [e["id"] for e in events] == [str(m.id) for m in later]
    assert "三" in events[-1]["html"] and "message-mine" in events[-1]["html"]
    assert answer.headers["Cache-Control"] == "private, no-store"


def test_a_message_posted_through_the_api_reaches_the_open_link(
    client, bound_app, session, monkeypatch
):
    # Should the wake not come, the stream says "still here" after HEARTBEAT, and this fails.
    monkeypatch.setitem(bound_app.config, HEARTBEAT, 5)
    monkeypatch.setitem(bound_app.config, LIFETIME, 30)
    world, _, group, _, token = world_with_link(session)
    api = _api_key(session, world)
    answer = client.get(f"/c/{token}/events", buffered=False)
    chunks = iter(answer.response)
    try:
        assert next(chunks).startswith(b"retry: ")
        sent = client.post(
            f"/api/v1/groups/{group.id}/messages",
            headers=api,
            json={"sender": "member", "sender_member_id": str(world.owner.id), "text": "明天送货"},
        )
        assert sent.status_code == 201
        [event] = _events(next(chunks))
        assert "明天送货" in event["html"] and world.owner.name in event["html"]
    finally:
        answer.close()


def test_revoking_the_link_ends_its_open_stream_and_refuses_the_next(
    client, bound_app, session, monkeypatch
):
    monkeypatch.setitem(bound_app.config, HEARTBEAT, 5)
    monkeypatch.setitem(bound_app.config, LIFETIME, 30)
    world, _, _, link, token = world_with_link(session)
    api = _api_key(session, world)
    answer = client.get(f"/c/{token}/events", buffered=False)
    chunks = iter(answer.response)
    try:
        assert next(chunks).startswith(b"retry: ")
        revoked = client.delete(f"/api/v1/customer-links/{link.id}", headers=api)
        assert revoked.status_code == 200
        # Woken by the revocation's commit, the stream ends at once, sending nothing.
        assert list(chunks) == []
    finally:
        answer.close()
    assert client.get(f"/c/{token}/events").status_code == 410
    assert client.get(f"/c/{token}/messages").status_code == 410
    assert client.get("/c/not-a-token/events").status_code == 404


def test_polling_gives_the_messages_after_a_position_without_the_staffs_flags(client, session):
    _, _, group, _, token = world_with_link(session)
    first = _says(session, group, "一")
    create_template(
        session, chain_id=group.chain_id, directory_group_id=None, contact_action="warn"
    )
    flagged = _says(session, group, "call 13900001234")
    session.commit()
    assert flagged.flagged

    answer = client.get(f"/c/{token}/messages?after={first.id}")

    assert [item["id"] for item in answer.json["items"]] == [str(flagged.id)]
    assert "13900001234" in answer.json["items"][0]["html"]
    assert "Flagged" not in answer.json["items"][0]["html"]
    assert "message-flag" not in client.get(f"/c/{token}").text


def test_the_script_replies_and_a_blocked_word_comes_back_with_its_reason(client, session):
    _, _, _, _, token = world_with_link(session)
    page = client.get(f"/c/{token}", headers={"Accept-Language": "en"})
    json_answer = {"Accept": "application/json", "Accept-Language": "en"}
    form = {"csrf_token": _csrf(page), "client_message_id": "c-1"}

    sent = client.post(f"/c/{token}", data={**form, "text": "您好"}, headers=json_answer)
    assert sent.status_code == 201
    [item] = sent.json["items"]
    assert "您好" in item["html"] and "You" in item["html"]
    assert sent.json["next_client_message_id"]
    again = client.post(f"/c/{token}", data={**form, "text": "您好"}, headers=json_answer)
    assert again.json["items"][0]["id"] == item["id"]  # the same form twice: one message

    form["client_message_id"] = "c-2"
    refused = client.post(f"/c/{token}", data={**form, "text": "refund now"}, headers=json_answer)
    assert refused.status_code == 422
    assert refused.json["errors"] == ["Contains the blocked word “refund”."]
