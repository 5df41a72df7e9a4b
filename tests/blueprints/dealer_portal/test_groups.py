"""The delivery group's page: who sits in it, its messages (people's apart from the system's),
posting as the signed-in member under the template's moderation, seating, unread marks, and
the live stream that resumes after Last-Event-ID. Another dealer's member, or another chain's,
finds none of it (404)."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from sqlalchemy import select

from blueprints.dealer_portal.groups import HEARTBEAT, LIFETIME
from service.chain.members import add_member
from service.db import utcnow
from service.groups.messages import post_message, post_system_message
from service.groups.models import GroupMember, GroupRead, Message
from service.groups.templates import create_template
from service.portal.access import Reader
from service.portal.attention import attention
from service.portal.groups import mark_read
from tests.service.customers import chain_world

acme, rival = chain_world.acme, chain_world.rival

INSTALL_REPLY = "安装师傅会在24小时内联系您"


def waiting(session, reader: Reader) -> list:
    """The reader's groups with customer messages they have not read, oldest waiting first."""
    return attention(session, reader, utcnow()).waiting.rows


@pytest.fixture
def group(acme):
    create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        blocked_words=[
            {"word": "微信", "action": "block"},
            {"word": "discount", "action": "warn"},
        ],
        auto_replies=[{"keyword": "安装", "reply": INSTALL_REPLY}],
    )
    _order, group = acme.order(acme.customer("王芳"))
    acme.session.commit()
    return group


def sign_in(client, member) -> None:
    """The member's session, as a sign-in makes it (signing in is tested on its own)."""
    with client.session_transaction() as session:
        session.update(
            member_id=str(member.id),
            chain_id=str(member.chain_id),
            generation=member.session_generation,
            seen=int(time.time()),
        )


def csrf(response) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', response.text).group(1)


def client_message_id(response) -> str:
    return re.search(r'name="client_message_id"[^>]*?value="([^"]+)"', response.text).group(1)


def customer_says(acme, group, text: str) -> list[Message]:
    stored, _ = post_message(acme.session, group=group, text=text, sender="customer")
    acme.session.commit()
    return stored


def send(client, group, text: str, **extra):
    page = client.get(f"/portal/groups/{group.id}")
    data = {"text": text, "csrf_token": csrf(page), "client_message_id": client_message_id(page)}
    return client.post(f"/portal/groups/{group.id}/messages", data={**data, **extra})


def messages_of(acme, group) -> list[Message]:
    return list(
        acme.session.scalars(
            select(Message).where(Message.group_id == group.id).order_by(Message.id)
        )
    )


def test_the_page_shows_the_group_its_people_and_its_messages(client, acme, group):
    customer_says(acme, group, "衣柜什么时候到？")
    post_system_message(acme.session, group=group, kind="notification", text="衣柜面板：已发货")
    acme.session.commit()
    sign_in(client, acme.owner)

    page = client.get(f"/portal/groups/{group.id}", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert group.name in page.text
    assert "Customer: 王芳" in page.text
    seats = re.search(r'<details class="group-seats".*?</details>', page.text, re.S).group(0)
    for name in ("王芳", "Li Wei", "Chen Jie", "Wu Gang"):
        assert name in seats
    assert "Owner · Service specialist" in seats
    people = re.findall(r'<li class="message message-person[^"]*"', page.text)
    system = re.findall(r'<li class="message message-system"', page.text)
    assert len(people) == 1
    assert len(system) >= 2  # the welcome and the notice, styled apart
    assert "Progress notice" in page.text
    assert page.text.index("衣柜什么时候到？") < page.text.index("衣柜面板：已发货")


def test_times_are_shown_in_the_chains_time_zone(client, acme, group):
    [message] = customer_says(acme, group, "在吗")
    sign_in(client, acme.owner)

    page = client.get(f"/portal/groups/{group.id}", headers={"Accept-Language": "zh-CN"})

    shanghai = message.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{shanghai.hour:02d}:{shanghai.minute:02d}" in page.text
    assert "Asia/Shanghai" in page.text


def test_earlier_messages_are_a_link_away(client, acme, group):
    for n in range(60):
        post_system_message(acme.session, group=group, kind="notice", text=f"通知 {n:02d}")
    acme.session.commit()
    sign_in(client, acme.owner)

    latest = client.get(f"/portal/groups/{group.id}")
    earlier = re.search(r'href="([^"]*before=[^"]+)"', latest.text).group(1).replace("&amp;", "&")
    before = client.get(earlier)

    assert "通知 59" in latest.text and "通知 05" not in latest.text
    assert "通知 05" in before.text and "通知 59" not in before.text
    assert 'data-events="' not in before.text  # an earlier page is not live


def test_a_member_posts_and_is_redirected_to_the_conversation(client, acme, group):
    sign_in(client, acme.owner)

    answer = send(client, group, "周五上门测量")

    assert answer.status_code == 302
    [mine] = [m for m in messages_of(acme, group) if m.sender == "member"]
    assert (mine.text, mine.sender_member_id) == ("周五上门测量", acme.owner.id)
    assert "周五上门测量" in client.get(f"/portal/groups/{group.id}").text


def test_the_same_form_posted_twice_stores_one_message(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")
    data = {"text": "好的", "csrf_token": csrf(page), "client_message_id": client_message_id(page)}

    first = client.post(f"/portal/groups/{group.id}/messages", data=data)
    again = client.post(f"/portal/groups/{group.id}/messages", data=data)

    assert (first.status_code, again.status_code) == (302, 302)
    assert [m.text for m in messages_of(acme, group)].count("好的") == 1


def test_a_blocked_word_is_refused_with_its_reason_next_to_the_box(client, acme, group):
    sign_in(client, acme.owner)
    before = len(messages_of(acme, group))

    answer = send(client, group, "加我微信聊")
    zh = client.post(
        f"/portal/groups/{group.id}/messages",
        data={"text": "加我微信聊", "csrf_token": csrf(answer)},
        headers={"Accept-Language": "zh-CN"},
    )

    assert answer.status_code == 422
    label = re.search(
        r'<label>(?:(?!</label>).)*name="text"(?:(?!</label>).)*</label>', answer.text, re.S
    ).group(0)
    assert "Contains the blocked word “微信”." in label
    assert "加我微信聊" in label  # the text is kept for editing
    assert "包含禁用词“微信”。" in zh.text
    assert len(messages_of(acme, group)) == before


def test_a_warned_message_is_posted_and_marked(client, acme, group):
    sign_in(client, acme.owner)

    send(client, group, "Any discount today?")
    page = client.get(f"/portal/groups/{group.id}", headers={"Accept-Language": "en"})

    assert "Flagged: Contains the blocked word “discount”." in page.text


def test_a_keyword_brings_the_templates_auto_reply(client, acme, group):
    sign_in(client, acme.owner)

    send(client, group, "明天安装可以吗")
    page = client.get(f"/portal/groups/{group.id}", headers={"Accept-Language": "en"})

    assert [m.kind for m in messages_of(acme, group)][-2:] == ["text", "auto_reply"]
    assert INSTALL_REPLY in page.text
    assert "Automatic reply" in page.text


def test_the_script_posts_and_gets_the_messages_back_as_json(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")
    data = {"csrf_token": csrf(page), "client_message_id": client_message_id(page)}
    headers = {"Accept": "application/json"}

    posted = client.post(
        f"/portal/groups/{group.id}/messages", data={**data, "text": "安装时间"}, headers=headers
    )
    refused = client.post(
        f"/portal/groups/{group.id}/messages",
        data={**data, "text": "微信", "client_message_id": posted.json["next_client_message_id"]},
        headers=headers,
    )

    assert posted.status_code == 201
    assert [INSTALL_REPLY in item["html"] for item in posted.json["items"]] == [False, True]
    assert posted.json["next_client_message_id"] != data["client_message_id"]
    assert refused.status_code == 422
    assert refused.json["errors"] == ["Contains the blocked word “微信”."]


def test_a_dealer_admin_posts_and_so_takes_a_seat(client, acme, group):
    sign_in(client, acme.admin)

    assert send(client, group, "我是店长，我来跟进").status_code == 302

    seat = acme.session.scalar(
        select(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.member_id == acme.admin.id
        )
    )
    assert seat is not None


def test_the_brand_reads_but_may_not_write_unless_seated(client, acme, group):
    brand = add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Han Mei", role="admin"
    )
    acme.session.commit()
    sign_in(client, brand)

    page = client.get(f"/portal/groups/{group.id}")
    posted = client.post(
        f"/portal/groups/{group.id}/messages", data={"text": "hi", "csrf_token": csrf(page)}
    )

    assert page.status_code == 200
    assert 'id="compose"' not in page.text
    assert "seat-form" not in page.text
    assert posted.status_code == 403


def test_a_member_who_may_write_seats_the_factorys_coordinator(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', page.text)
    offered = {name for _id, name in options}

    answer = client.post(
        f"/portal/groups/{group.id}/seats",
        data={"member_id": str(acme.coordinator.id), "csrf_token": csrf(page)},
    )

    assert "Guo Qiang · Panel Works" in offered
    assert "Zhou Yu · Bund Home" in offered  # the dealer's own admin, not seated yet
    # Not those seated already, another dealer's people, or someone who has left.
    assert not any(name.startswith(("Li Wei", "Ma Lin", "Qian Hao")) for name in offered)
    assert answer.status_code == 302
    seats = client.get(f"/portal/groups/{group.id}").text
    assert "Guo Qiang" in re.search(r"<ul>.*?</ul>", seats, re.S).group(0)


def test_someone_not_offered_cannot_be_seated(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")

    answer = client.post(
        f"/portal/groups/{group.id}/seats",
        data={"member_id": str(acme.their_designer.id), "csrf_token": csrf(page)},
    )

    assert answer.status_code == 422
    assert not acme.session.scalar(
        select(GroupMember.id).where(
            GroupMember.group_id == group.id, GroupMember.member_id == acme.their_designer.id
        )
    )


def test_opening_the_page_marks_the_customers_messages_read(client, acme, group):
    reader = Reader.of(acme.owner)
    first, *_ = customer_says(acme, group, "你好")
    customer_says(acme, group, "请问几点到")

    [unread] = waiting(acme.session, reader)
    assert (unread.group_id, unread.count, unread.since) == (group.id, 2, first.created_at)

    sign_in(client, acme.owner)
    client.get(f"/portal/groups/{group.id}")
    acme.session.expire_all()
    assert waiting(acme.session, reader) == []

    customer_says(acme, group, "还在吗")
    assert [u.count for u in waiting(acme.session, reader)] == [1]
    # Another member's marks are their own.
    assert [u.count for u in waiting(acme.session, Reader.of(acme.designer))] == [3]


def test_a_read_mark_never_moves_back(client, acme, group):
    reader = Reader.of(acme.owner)
    older, *_ = customer_says(acme, group, "一")
    newer, *_ = customer_says(acme, group, "二")
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")

    answer = client.post(
        f"/portal/groups/{group.id}/read",
        data={"message_id": str(older.id), "csrf_token": csrf(page)},
    )
    mark_read(acme.session, reader, group, older.id)

    assert answer.status_code == 204
    acme.session.expire_all()
    mark = acme.session.scalar(select(GroupRead).where(GroupRead.member_id == acme.owner.id))
    assert mark.message_id == newer.id
    assert waiting(acme.session, reader) == []


def _events(stream: bytes) -> list[dict]:
    events = []
    for block in stream.decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and ": " in line[:6]
        )
        if "id" in fields:
            events.append({"id": fields["id"], **json.loads(fields["data"])})
    return events


def test_a_reconnecting_stream_replays_every_message_after_the_last_it_got(
    client, app, acme, group, monkeypatch
):
    monkeypatch.setitem(app.config, LIFETIME, 0)  # the replay, then the stream ends
    first, *_ = customer_says(acme, group, "第一条")
    later = [customer_says(acme, group, f"第{n}条")[0] for n in ("二", "三")]
    sign_in(client, acme.owner)

    answer = client.get(
        f"/portal/groups/{group.id}/events", headers={"Last-Event-ID": str(first.id)}
    )

    assert answer.mimetype == "text/event-stream"
    assert answer.data.startswith(b"retry: ")
    events = _events(answer.data)
    assert [e["id"] for e in events] == [str(m.id) for m in later]
    assert "第三条" in events[-1]["html"]


def test_an_open_stream_is_woken_by_a_commit_that_writes_in_its_group(
    client, bound_app, acme, group, monkeypatch
):
    # Should the wake not come, the stream says "still here" after HEARTBEAT, and this fails.
    monkeypatch.setitem(bound_app.config, HEARTBEAT, 5)
    monkeypatch.setitem(bound_app.config, LIFETIME, 30)
    sign_in(client, acme.owner)
    answer = client.get(f"/portal/groups/{group.id}/events", buffered=False)
    chunks = iter(answer.response)
    database = bound_app.extensions["db"]
    try:
        assert next(chunks).startswith(b"retry: ")  # subscribed, nothing read yet
        customer_says(acme, group, "在吗")  # committed before the stream's first read
        assert "在吗" in _events(next(chunks))[0]["html"]

        # The stream now waits on Redis; this commit's PUBLISH is what wakes it.
        with database.session() as session:
            post_message(session, group=group, text="刚到家", sender="customer")
            session.commit()
        assert "刚到家" in _events(next(chunks))[0]["html"]
    finally:
        answer.close()


def test_polling_gives_the_messages_after_a_position(client, acme, group):
    first, *_ = customer_says(acme, group, "一")
    second, *_ = customer_says(acme, group, "二")
    sign_in(client, acme.owner)

    answer = client.get(f"/portal/groups/{group.id}/messages?after={first.id}")

    assert [item["id"] for item in answer.json["items"]] == [str(second.id)]
    assert answer.json["more"] is False


def group_routes(app) -> list[tuple[str, str]]:
    """Every route of the portal that takes a group's id, with each of its methods: from the
    app's own map, so that a route added later is checked too."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dealer_portal.") and "group_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule.replace("<uuid:group_id>", "{id}")))
    return routes


def test_every_group_route_is_checked(app):
    assert len(group_routes(app)) >= 6


def _strangers_find_nothing(client, app, group) -> None:
    for method, route in group_routes(app):
        url = route.format(id=group.id)
        answer = client.open(
            url, method=method, data={"text": "hi", "member_id": str(uuid.uuid4())}
        )
        assert answer.status_code == 404, (method, url)


def test_another_dealers_member_finds_no_such_group(client, app, acme, group):
    sign_in(client, acme.their_owner)
    _strangers_find_nothing(client, app, group)


def test_another_chains_administrator_finds_no_such_group(client, app, acme, rival, group):
    rival.session.commit()
    sign_in(client, rival.admin)
    _strangers_find_nothing(client, app, group)


def test_a_factorys_member_finds_no_such_group(client, app, acme, group):
    sign_in(client, acme.coordinator)
    _strangers_find_nothing(client, app, group)


def test_the_other_dealers_administrator_finds_no_such_group(client, app, acme, group):
    their_admin = add_member(
        acme.session,
        chain_id=acme.id,
        organisation_id=acme.other_dealer.id,
        name="Tang Li",
        role="admin",
    )
    acme.session.commit()
    sign_in(client, their_admin)
    _strangers_find_nothing(client, app, group)


def test_a_waiting_stream_holds_no_database_connection(config, committed):
    """With an app of its own (its own engine and pool) and committed data: while the stream
    waits for the next message, not one connection of the pool is in use."""
    from service.app import create_app
    from tests.service.customers.chain_world import build_chain_world

    world = build_chain_world(committed, "Acme Home")
    _order, group = world.order(world.customer("王芳"))
    committed.commit()
    app = create_app(config)
    app.config[HEARTBEAT], app.config[LIFETIME] = 5, 30
    pool = app.extensions["db"].engine.pool
    client = app.test_client()
    sign_in(client, world.owner)

    answer = client.get(f"/portal/groups/{group.id}/events", buffered=False)
    chunks = iter(answer.response)
    try:
        assert next(chunks).startswith(b"retry: ")
        assert pool.checkedout() == 0
        with app.extensions["db"].session() as session:
            post_message(session, group=group, text="到了吗", sender="customer")
            session.commit()
        assert "到了吗" in _events(next(chunks))[0]["html"]
        assert pool.checkedout() == 0  # read, and given back, before the event went out
    finally:
        answer.close()
        app.extensions["db"].engine.dispose()


def test_what_people_write_reaches_the_page_as_text_not_markup(
    client, app, acme, group, monkeypatch
):
    monkeypatch.setitem(app.config, LIFETIME, 0)
    first, *_ = customer_says(acme, group, "先问一下")
    customer_says(acme, group, '<img src=x onerror="alert(1)">')
    sign_in(client, acme.owner)

    page = client.get(f"/portal/groups/{group.id}").text
    polled = client.get(f"/portal/groups/{group.id}/messages?after={first.id}").json
    stream = client.get(
        f"/portal/groups/{group.id}/events", headers={"Last-Event-ID": str(first.id)}
    )
    streamed = _events(stream.data)

    for html in (page, polled["items"][0]["html"], streamed[0]["html"]):
        assert "<img" not in html
        assert "&lt;img src=x" in html


def test_a_stream_given_no_position_it_knows_starts_from_now(client, app, acme, group, monkeypatch):
    monkeypatch.setitem(app.config, LIFETIME, 0)
    customer_says(acme, group, "旧消息")
    sign_in(client, acme.owner)

    for headers in ({}, {"Last-Event-ID": "not-a-message"}):
        answer = client.get(f"/portal/groups/{group.id}/events", headers=headers)
        assert answer.status_code == 200
        assert _events(answer.data) == []
