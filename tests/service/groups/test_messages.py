"""Messages of a delivery group: moderated by the group's template, posted once, paged by
cursor."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Invalid
from service.groups.messages import MAX_TEXT, list_messages, post_message, post_system_message
from service.groups.models import DeliveryGroup, Message
from service.groups.templates import create_template
from service.notify.models import OutboxEvent
from service.pagination import encode_cursor
from tests.service.customers.chain_world import new_customers_group, race

INSTALL_REPLY = "Our installer will call you within 24 h"


def template(world, **values):
    return create_template(world.session, chain_id=world.id, directory_group_id=None, **values)


@pytest.fixture
def group(acme):
    return acme.order(acme.customer())[1]


def post(world, group, text, *, sender="customer", **fields):
    return post_message(world.session, group=group, text=text, sender=sender, **fields)


def stored(world, group) -> list[Message]:
    """The group's messages, oldest first."""
    return list(
        world.session.scalars(
            select(Message).where(Message.group_id == group.id).order_by(Message.id)
        )
    )


def waiting_entries(world) -> list:
    """The chain's outbox entries not yet acted on: its messages not planned."""
    return list(
        world.session.scalars(
            select(Message.id).where(Message.chain_id == world.id, Message.planned_at.is_(None))
        )
    )


def test_a_customers_message_is_stored_as_text(acme, group):
    [message], created = post(acme, group, "  When do you deliver?  ")

    assert created
    assert (message.sender, message.kind, message.text) == (
        "customer",
        "text",
        "When do you deliver?",
    )
    assert (message.sender_member_id, message.flagged, message.flag_reason) == (None, False, None)
    assert stored(acme, group)[-1] == message


def test_a_member_must_sit_in_the_group_to_post(acme, group):
    [message], _ = post(
        acme, group, "I will measure on Friday.", sender="member", sender_member_id=acme.designer.id
    )
    assert message.sender_member_id == acme.designer.id

    for member_id in (acme.sales.id, acme.their_designer.id, None):
        with pytest.raises(Invalid) as raised:
            post(acme, group, "Hello", sender="member", sender_member_id=member_id)
        assert list(raised.value.details["fields"]) == ["sender_member_id"]


def test_the_system_cannot_be_impersonated(acme, group):
    with pytest.raises(Invalid) as raised:
        post(acme, group, "Your order is cancelled.", sender="system")

    assert list(raised.value.details["fields"]) == ["sender"]


def test_text_is_at_most_4000_characters(acme, group):
    [message], _ = post(acme, group, "长" * MAX_TEXT)
    assert len(message.text) == MAX_TEXT == 4000
    before = len(stored(acme, group))

    for text in ("长" * (MAX_TEXT + 1), "   "):
        with pytest.raises(Invalid) as raised:
            post(acme, group, text)
        assert list(raised.value.details["fields"]) == ["text"]
    assert len(stored(acme, group)) == before


# --- Blocked words and contact details ---


def test_a_blocked_word_refuses_the_message_and_stores_nothing(acme, group):
    template(acme, blocked_words=[{"word": "WeChat", "action": "block"}])
    group = acme.order(acme.customer("Zhang San"))[1]  # a group made from that template
    messages, events = stored(acme, group), waiting_entries(acme)

    with pytest.raises(Invalid) as raised:
        post(acme, group, "Add me on wechat instead", client_message_id="c-1")

    assert raised.value.code == "message_blocked"
    assert "WeChat" in raised.value.details["fields"]["text"][0]
    assert stored(acme, group) == messages
    assert waiting_entries(acme) == events


def test_a_warned_word_is_stored_flagged(acme):
    template(acme, blocked_words=[{"word": "discount", "action": "warn"}])
    group = acme.order(acme.customer())[1]

    [message], created = post(acme, group, "Any DISCOUNT for cash?")

    assert created
    assert message.flagged
    assert "discount" in message.flag_reason


def test_block_wins_over_warn(acme):
    template(
        acme,
        blocked_words=[
            {"word": "discount", "action": "warn"},
            {"word": "wechat", "action": "block"},
        ],
    )
    group = acme.order(acme.customer())[1]

    with pytest.raises(Invalid) as raised:
        post(acme, group, "discount if we talk on wechat?")
    assert raised.value.code == "message_blocked"


CONTACTS = [
    "Call me on 13912345678",
    "my number is 139 1234 5678",
    "+86 139-1234-5678 after six",
    "or +44 7911 123456 when I travel",
    "write to wang.fang@example.com",
]
NOT_CONTACTS = [
    "Order SO-1001 is fine",
    "SO-20260302-0012 arrives 2026-03-15",
    "Delivery on 2026-03-15 14:30, or 15/03/2026",
    "Invoice 20260302001 for ¥12,800.00, 3 pieces",
    "Tracking SF1391234567890",
    "Room 1302, building 13, 2026年3月15日",
]


@pytest.mark.parametrize("text", CONTACTS)
def test_contact_details_are_flagged_by_default(acme, group, text):
    [message], _ = post(acme, group, text)

    assert message.flagged
    assert message.flag_reason in ("Contains a mobile number.", "Contains an e-mail address.")


@pytest.mark.parametrize("text", CONTACTS)
def test_contact_details_are_refused_when_the_template_blocks_them(acme, text):
    template(acme, contact_action="block")
    group = acme.order(acme.customer())[1]
    before = len(stored(acme, group))

    with pytest.raises(Invalid) as raised:
        post(acme, group, text)

    assert raised.value.code == "message_blocked"
    assert len(stored(acme, group)) == before


@pytest.mark.parametrize("text", CONTACTS)
def test_contact_details_pass_when_the_template_allows_them(acme, text):
    template(acme, contact_action="allow")
    group = acme.order(acme.customer())[1]

    [message], _ = post(acme, group, text)

    assert not message.flagged


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_order_numbers_dates_and_amounts_are_not_contact_details(acme, text):
    template(acme, contact_action="block")
    group = acme.order(acme.customer())[1]

    [message], _ = post(acme, group, text)

    assert not message.flagged


# --- Auto-replies ---


@pytest.fixture
def replying(acme):
    """A group whose template answers "install" (and, second, "price")."""
    template(
        acme,
        auto_replies=[
            {"keyword": "install", "reply": INSTALL_REPLY},
            {"keyword": "price", "reply": "Your dealer will quote."},
        ],
    )
    return acme.order(acme.customer())[1]


def test_an_auto_reply_follows_the_message_that_triggered_it(acme, replying):
    [question, reply], created = post(acme, replying, "When do you INSTALL the wardrobe?")

    assert created
    assert (reply.sender, reply.kind, reply.text) == ("system", "auto_reply", INSTALL_REPLY)
    assert reply.payload == {"in_reply_to": str(question.id)}
    assert stored(acme, replying)[-2:] == [question, reply]


def test_a_message_gets_one_auto_reply_however_many_keywords_it_has(acme, replying):
    messages, _ = post(acme, replying, "What is the price to install?")

    assert [m.text for m in messages[1:]] == [INSTALL_REPLY]
    assert len([m for m in stored(acme, replying) if m.kind == "auto_reply"]) == 1


def test_messages_without_a_keyword_and_system_messages_get_no_reply(acme, replying):
    [_], _ = post(acme, replying, "Thank you!")
    post_system_message(
        acme.session,
        group=replying,
        kind="notification",
        text="Order SO-1: Wardrobe — ready to install.",
    )

    assert [m for m in stored(acme, replying) if m.kind == "auto_reply"] == []


def test_the_same_post_again_returns_the_message_and_its_reply_without_new_ones(acme, replying):
    first, _ = post(acme, replying, "install?", client_message_id="c-1")
    count = len(stored(acme, replying))

    again, created = post(acme, replying, "install?", client_message_id="c-1")

    assert not created
    assert again == first
    assert len(stored(acme, replying)) == count


# --- Posting once ---


def test_the_same_client_message_id_twice_stores_one_message(acme, group):
    [first], _ = post(acme, group, "Hello", client_message_id="phone-42")
    events = waiting_entries(acme)

    [again], created = post(acme, group, "Hello", client_message_id="phone-42")

    assert not created
    assert again.id == first.id
    assert acme.count(Message, Message.client_message_id == "phone-42") == 1
    assert waiting_entries(acme) == events


def test_client_message_ids_are_per_group(acme, group):
    other = acme.order(acme.customer("Zhang San"))[1]

    [ours], _ = post(acme, group, "Hello", client_message_id="phone-42")
    [theirs], created = post(acme, other, "Hello", client_message_id="phone-42")

    assert created
    assert ours.id != theirs.id


def test_two_sessions_posting_one_client_message_id_store_one_message(engine, racing):
    with Session(engine, expire_on_commit=False) as setup:
        world = replace(racing, session=setup)
        template(world, auto_replies=[{"keyword": "install", "reply": INSTALL_REPLY}])
        group = new_customers_group(setup, racing)
        setup.commit()

    def posting(session):
        return post_message(
            session,
            group=group,
            text="When do you install?",
            sender="customer",
            client_message_id="phone-42",
        )

    with Session(engine) as first, Session(engine) as second:
        (message, reply), created = posting(first)  # stored, not committed yet
        again, created_again = race(engine, first, second, posting)

        assert (created, created_again) == (True, False)
        assert [m.id for m in again] == [message.id, reply.id]

    with Session(engine) as check:
        texts = check.scalars(
            select(Message.kind).where(Message.group_id == group.id).order_by(Message.id)
        ).all()
        waiting = check.scalars(
            select(Message.id).where(Message.group_id == group.id, Message.planned_at.is_(None))
        ).all()
        rows = check.scalars(select(OutboxEvent.id).where(OutboxEvent.chain_id == racing.id)).all()
    assert texts == ["welcome", "text", "auto_reply"]
    assert (len(waiting), rows) == (3, [])  # each message its own outbox entry, once


# --- The customer's first and latest message ---


def ends(world, group) -> tuple:
    world.session.refresh(group)
    return group.first_customer_message_id, group.last_customer_message_id


def test_the_group_keeps_the_customers_first_and_latest_message(acme, group):
    assert ends(acme, group) == (None, None)
    [first], _ = post(acme, group, "Hello")
    post(acme, group, "On our way", sender="member", sender_member_id=acme.owner.id)
    assert ends(acme, group) == (first.id, first.id)

    [latest], _ = post(acme, group, "When will it come?", client_message_id="phone-7")
    post(acme, group, "When will it come?", client_message_id="phone-7")  # the same again
    post_system_message(acme.session, group=group, kind="notice", text="Shipped")
    assert ends(acme, group) == (first.id, latest.id)


def test_two_customer_messages_at_once_keep_both_ends(engine, racing):
    with Session(engine, expire_on_commit=False) as setup:
        group = new_customers_group(setup, racing)
        setup.commit()

    def posting(session):
        [message], _ = post_message(session, group=group, text="Anyone?", sender="customer")
        return message.id

    with Session(engine) as first, Session(engine) as second:
        earlier = posting(first)  # holds the group's row until it commits
        later = race(engine, first, second, posting)

    with Session(engine) as check:
        stored = check.get(DeliveryGroup, group.id)
        # The second read the group before the first committed: what it wrote is the
        # row's as it was when its lock was granted, not its own stale copy.
        assert (stored.first_customer_message_id, stored.last_customer_message_id) == (
            earlier,
            later,
        )


# --- Lists ---


def test_messages_are_listed_newest_first_page_by_page(acme, group):
    for n in range(6):
        post(acme, group, f"message {n}")
    everything = stored(acme, group)[::-1]  # the welcome and six messages, newest first

    seen, cursor = [], None
    while True:
        page = list_messages(acme.session, group_id=group.id, cursor=cursor, limit=3)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == everything
    assert len(seen) == 7


def test_since_lists_what_came_after_oldest_first(acme, group):
    [seen], _ = post(acme, group, "seen already")
    later = [post(acme, group, f"later {n}")[0][0] for n in range(3)]

    page = list_messages(acme.session, group_id=group.id, since=encode_cursor(seen.id))

    assert page.items == later
    assert page.next_cursor is None
    first_two = list_messages(
        acme.session, group_id=group.id, since=encode_cursor(seen.id), limit=2
    )
    assert first_two.items == later[:2]
    rest = list_messages(
        acme.session, group_id=group.id, since=encode_cursor(seen.id), cursor=first_two.next_cursor
    )
    assert rest.items == later[2:]
    newest = list_messages(acme.session, group_id=group.id, since=encode_cursor(later[-1].id))
    assert newest.items == []


def test_a_bad_since_is_invalid(acme, group):
    with pytest.raises(Invalid) as raised:
        list_messages(acme.session, group_id=group.id, since="not-a-cursor!")
    assert list(raised.value.details["fields"]) == ["since"]


def test_a_groups_list_holds_its_own_messages_only(acme, rival, group):
    theirs = rival.order(rival.customer())[1]
    post(rival, theirs, "Rival's secret")

    texts = [m.text for m in list_messages(acme.session, group_id=group.id).items]

    assert "Rival's secret" not in texts
