"""Delivery groups: one per customer, made with their first order from the template that
applies, capped, rename-locked; their messages moderated, answered, posted once, paged and
exported."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from service.groups.models import Message
from service.notify.models import OutboxEvent
from tests.blueprints.brand_api.chain_world import (
    API,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)
from tests.blueprints.brand_api.delivery_world import add_member, open_shop

INSTALL_REPLY = "Our installer will call you within 24 h."


def set_default_template(tenant, **values) -> dict:
    default = next(
        t for t in body(tenant.get(f"{API}/group-templates"))["items"] if t["is_default"]
    )
    return body(tenant.patch(f"{API}/group-templates/{default['id']}", json=values))


def new_group(shop, customer: str = "Chen Jing") -> dict:
    """The group of a new customer's first order."""
    order = shop.order(shop.customer(customer)["id"], f"SO-{customer}")
    return shop.group(order["group_id"])


def groups(tenant, **query) -> list[dict]:
    return body(tenant.get(f"{API}/groups", query_string={"limit": 500, **query}))["items"]


def seat(tenant, group_id: str, member_id: str):
    return tenant.post(f"{API}/groups/{group_id}/members", json={"member_id": member_id})


def rename(tenant, group_id: str, **values):
    return tenant.patch(f"{API}/groups/{group_id}", json=values)


def seats_of(group: dict) -> list[tuple[str | None, str]]:
    return [(s["member_id"], s["role"]) for s in group["seats"]]


# The group and its seats


def test_a_group_is_made_with_the_customers_first_order_only(tenant, shop):
    chen = shop.customer()
    assert groups(tenant) == []
    first = shop.order(chen["id"], "SO-1")
    second = shop.order(chen["id"], "SO-2")
    assert first["group_id"] == second["group_id"]
    [group] = groups(tenant)
    assert group["id"] == first["group_id"]
    assert (group["customer_id"], group["dealer_id"]) == (chen["id"], shop.dealer_id)
    assert group["owner_member_id"] == shop.owner_id
    kinds = [m["kind"] for m in shop.messages(group["id"])]
    assert kinds == ["welcome"]  # the second order did not welcome them again


def test_the_welcome_message_is_the_first_message(tenant, shop):
    group = new_group(shop)
    body(shop.post_message(group["id"], "Hello!"), 201)
    welcome, hello = shop.messages(group["id"])
    assert (welcome["kind"], welcome["sender"], welcome["sender_member_id"]) == (
        "welcome",
        "system",
        None,
    )
    assert welcome["text"].startswith("Chen Jing，欢迎您！Pudong Store 的 Li Na")
    assert hello["text"] == "Hello!"


def test_no_welcome_message_when_the_template_has_none(tenant, shop):
    set_default_template(tenant, welcome_message="")
    assert shop.messages(new_group(shop)["id"]) == []


def test_the_seats_are_the_customer_the_owner_and_members_with_the_templates_roles(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")  # its designer and installer stay out
    gone = add_member(tenant, shop.dealer_id, "designer")
    assert tenant.delete(f"{API}/members/{gone}").status_code == 204
    group = new_group(shop)
    assert seats_of(group) == [
        (None, "customer"),
        (shop.owner_id, "owner"),
        (shop.designer_id, "member"),
        (shop.installer_id, "member"),
    ]
    assert group["member_count"] == 4
    seated = {s["member_id"] for s in group["seats"]}
    assert not seated & {shop.sales_id, shop.coordinator_id, gone, other.designer_id}


def test_the_templates_roles_decide_who_joins_besides_the_customer_and_owner(tenant, shop):
    set_default_template(tenant, member_roles=["sales", "installer"])
    group = new_group(shop)
    # The owner sits in their customer's group whatever the roles say.
    assert seats_of(group) == [
        (None, "customer"),
        (shop.owner_id, "owner"),
        (shop.installer_id, "member"),
        (shop.sales_id, "member"),
    ]
    assert group["owner_member_id"] == shop.owner_id
    posted = shop.post_message(group["id"], "Hello!", "member", sender_member_id=shop.owner_id)
    assert body(posted, 201)["items"][0]["sender_member_id"] == shop.owner_id


def test_a_member_from_a_factory_is_seated_in_that_group_only(tenant, shop):
    chen, wang = new_group(shop, "Chen"), new_group(shop, "Wang")
    added = body(seat(tenant, chen["id"], shop.coordinator_id), 201)
    assert (shop.coordinator_id, "member") in seats_of(added)
    assert added["member_count"] == chen["member_count"] + 1
    assert shop.group(wang["id"]) == wang
    assert [g["id"] for g in groups(tenant, member_id=shop.coordinator_id)] == [chen["id"]]
    # Seating them again changes nothing.
    again = body(seat(tenant, chen["id"], shop.coordinator_id), 201)
    assert again == added
    # They may now speak in that group, and only there.
    speak = {"sender": "member", "sender_member_id": shop.coordinator_id}
    assert shop.post_message(chen["id"], "Panels ship Monday.", **speak).status_code == 201
    assert bad_fields(shop.post_message(wang["id"], "Hi", **speak)) == {"sender_member_id"}


def test_a_member_of_a_competing_dealer_is_refused_and_nothing_changes(tenant, shop, connection):
    rival = open_shop(tenant, "Xuhui Store")
    group = new_group(shop)
    before = database_snapshot(connection)
    response = seat(tenant, group["id"], rival.installer_id)
    assert bad_fields(response) == {"member_id"}
    assert "another dealer" in response.get_json()["error"]["message"]
    assert database_snapshot(connection) == before
    # The brand's people and any factory's are welcome.
    brand_admin = add_member(tenant, str(tenant.brand_id), "admin", "Ma Lin")
    for member in (brand_admin, rival.coordinator_id):
        assert (member, "member") in seats_of(body(seat(tenant, group["id"], member), 201))


def test_a_visibility_rule_lets_the_customers_dealer_seat_another_dealers_member(tenant):
    def directory_group(path: str) -> str:
        return body(tenant.post(f"{API}/directory-groups", json={"path": path}), 201)["id"]

    east, partners = directory_group("Dealers/East"), directory_group("Partners")
    shop = open_shop(tenant, "Pudong Store", group_ids=[east])
    partner = open_shop(tenant, "Install Partners", group_ids=[partners])
    group = new_group(shop)
    assert bad_fields(seat(tenant, group["id"], partner.installer_id)) == {"member_id"}
    rule = {"viewer_group_id": east, "visible_group_id": partners}
    body(tenant.post(f"{API}/visibility-rules", json=rule), 201)
    seated = body(seat(tenant, group["id"], partner.installer_id), 201)
    assert (partner.installer_id, "member") in seats_of(seated)
    # The rule lets the east dealers see the partners, not the other way round.
    theirs = new_group(partner, "Wang")
    assert bad_fields(seat(tenant, theirs["id"], shop.installer_id)) == {"member_id"}


def test_the_member_cap_refuses_the_next_seat_and_changes_nothing(tenant, shop, connection):
    set_default_template(tenant, member_cap=3, member_roles=["owner"])
    group = new_group(shop)
    assert (group["member_cap"], group["member_count"]) == (3, 2)
    assert body(seat(tenant, group["id"], shop.coordinator_id), 201)["member_count"] == 3
    before = database_snapshot(connection)
    error = assert_error(seat(tenant, group["id"], shop.installer_id), 409, "group_full")
    assert "3" in error["message"]
    assert database_snapshot(connection) == before
    assert shop.group(group["id"])["member_count"] == 3
    # A freed seat may be taken.
    path = f"{API}/groups/{group['id']}/members/{shop.coordinator_id}"
    assert tenant.delete(path).status_code == 204
    assert body(seat(tenant, group["id"], shop.installer_id), 201)["member_count"] == 3


def test_a_cap_below_the_templates_roles_seats_only_as_many_as_fit(tenant, shop):
    set_default_template(tenant, member_cap=3)  # customer, owner, designer, installer: 4
    group = new_group(shop)
    assert len(group["seats"]) == group["member_count"] == 3
    assert_error(seat(tenant, group["id"], shop.sales_id), 409, "group_full")


def test_the_owner_keeps_their_seat(tenant, shop, connection):
    group = new_group(shop)
    before = database_snapshot(connection)
    path = f"{API}/groups/{group['id']}/members/{shop.owner_id}"
    assert_error(tenant.delete(path), 409, "owner_stays")
    not_seated = f"{API}/groups/{group['id']}/members/{shop.sales_id}"
    assert_error(tenant.delete(not_seated), 404, "not_found")
    assert database_snapshot(connection) == before


def test_seating_an_unknown_or_removed_member_is_refused_naming_it(tenant, shop, connection):
    group = new_group(shop)
    assert tenant.delete(f"{API}/members/{shop.sales_id}").status_code == 204
    before = database_snapshot(connection)
    for member in (shop.sales_id, "01234567-89ab-7def-8123-456789abcdef"):
        assert bad_fields(seat(tenant, group["id"], member)) == {"member_id"}
    assert database_snapshot(connection) == before


def test_rename_is_refused_while_locked_and_allowed_after_unlocking(tenant, shop, connection):
    group = new_group(shop)
    assert group["rename_locked"] is True
    before = database_snapshot(connection)
    assert_error(rename(tenant, group["id"], name="Chen's flat"), 409, "rename_locked")
    assert database_snapshot(connection) == before
    assert body(rename(tenant, group["id"], name=group["name"]))["name"] == group["name"]

    assert body(rename(tenant, group["id"], rename_locked=False))["rename_locked"] is False
    renamed = body(rename(tenant, group["id"], name=" Chen's flat "))
    assert renamed["name"] == "Chen's flat"
    assert shop.group(group["id"])["name"] == "Chen's flat"
    assert bad_fields(rename(tenant, group["id"], name="  ")) == {"name"}

    body(rename(tenant, group["id"], rename_locked=True))
    assert_error(rename(tenant, group["id"], name="Again"), 409, "rename_locked")
    # Unlocking and renaming in one request is allowed.
    both = body(rename(tenant, group["id"], rename_locked=False, name="Both"))
    assert (both["name"], both["rename_locked"]) == ("Both", False)


def test_groups_are_listed_newest_first_and_filtered_by_dealer(tenant, shop):
    other = open_shop(tenant, "Xuhui Store")
    a, b, c = new_group(shop, "A"), new_group(other, "B"), new_group(shop, "C")
    assert [g["id"] for g in groups(tenant)] == [c["id"], b["id"], a["id"]]
    assert [g["id"] for g in groups(tenant, dealer_id=shop.dealer_id)] == [c["id"], a["id"]]
    assert [g["id"] for g in groups(tenant, dealer_id=other.dealer_id)] == [b["id"]]
    assert [g["id"] for g in groups(tenant, member_id=other.owner_id)] == [b["id"]]
    unknown = "01234567-89ab-7def-8123-456789abcdef"
    for name in ("dealer_id", "member_id"):
        assert bad_fields(tenant.get(f"{API}/groups", query_string={name: unknown})) == {name}


# Messages


def test_a_member_or_the_customer_posts_a_message(tenant, shop):
    group = new_group(shop)
    posted = body(
        shop.post_message(
            group["id"], " Measuring on Friday. ", "member", sender_member_id=shop.designer_id
        ),
        201,
    )
    [message] = posted["items"]
    assert (message["sender"], message["sender_member_id"]) == ("member", shop.designer_id)
    assert (message["kind"], message["text"], message["flagged"]) == (
        "text",
        "Measuring on Friday.",
        False,
    )
    assert message["group_id"] == group["id"]
    from_customer = body(
        shop.post_message(group["id"], "Thanks", "customer", sender_member_id=shop.owner_id), 201
    )["items"][0]
    assert (from_customer["sender"], from_customer["sender_member_id"]) == ("customer", None)
    assert shop.messages(group["id"])[-2:] == [message, from_customer]


def test_each_stored_message_is_an_outbox_entry_to_plan_and_writes_no_row(tenant, shop, connection):
    set_default_template(tenant, auto_replies=[{"keyword": "install", "reply": INSTALL_REPLY}])
    group = new_group(shop)

    def unplanned():
        stmt = select(Message.id).where(Message.planned_at.is_(None)).order_by(Message.id)
        return [str(message_id) for message_id in connection.scalars(stmt)]

    before, rows = unplanned(), connection.scalar(select(func.count()).select_from(OutboxEvent))
    posted = body(shop.post_message(group["id"], "When do you install?"), 201)["items"]
    assert unplanned() == [*before, *(m["id"] for m in posted)]
    assert len(posted) == 2
    assert connection.scalar(select(func.count()).select_from(OutboxEvent)) == rows


def test_a_blocked_word_with_block_is_refused_and_nothing_is_stored(tenant, shop, connection):
    set_default_template(tenant, blocked_words=[{"word": "Refund", "action": "block"}])
    group = new_group(shop)
    before = database_snapshot(connection)
    response = shop.post_message(group["id"], "I want a REFUND now", client_message_id="r-1")
    error = assert_error(response, 422, "message_blocked")
    assert "Refund" in error["details"]["fields"]["text"][0]
    assert database_snapshot(connection) == before


def test_a_blocked_word_with_warn_is_stored_flagged(tenant, shop):
    set_default_template(tenant, blocked_words=[{"word": "cheaper", "action": "warn"}])
    group = new_group(shop)
    [message] = body(shop.post_message(group["id"], "It is CHEAPER elsewhere"), 201)["items"]
    assert message["flagged"] is True
    assert "cheaper" in message["flag_reason"]
    assert shop.messages(group["id"])[-1] == message


def test_block_wins_over_warn(tenant, shop, connection):
    words = [{"word": "cheaper", "action": "warn"}, {"word": "refund", "action": "block"}]
    set_default_template(tenant, blocked_words=words)
    group = new_group(shop)
    before = database_snapshot(connection)
    response = shop.post_message(group["id"], "cheaper, or a refund")
    assert_error(response, 422, "message_blocked")
    assert database_snapshot(connection) == before


CONTACTS = [
    "Call me on 139 1234 5678",
    "my number: +86 139-1234-5678",
    "13912345678",
    "WhatsApp +44 7911 123456",
    "mail chen.jing@example.com please",
]
INNOCENT = [
    "The 2 panels arrive 2024-05-01 between 9 and 11",
    "Order SO-001, quantity 4, 1200 x 600 mm",
    "Price 12,800 yuan @ 20% off",
]


@pytest.mark.parametrize("text", CONTACTS)
def test_a_mobile_number_or_email_is_flagged_when_the_template_warns(tenant, shop, text):
    group = new_group(shop)  # the default template warns
    [message] = body(shop.post_message(group["id"], text), 201)["items"]
    assert message["flagged"] is True
    assert message["flag_reason"].startswith("Contains")


@pytest.mark.parametrize("text", CONTACTS)
def test_a_mobile_number_or_email_is_refused_when_the_template_blocks(
    tenant, shop, connection, text
):
    set_default_template(tenant, contact_action="block")
    group = new_group(shop)
    before = database_snapshot(connection)
    assert_error(shop.post_message(group["id"], text), 422, "message_blocked")
    assert database_snapshot(connection) == before


@pytest.mark.parametrize("text", CONTACTS[:1] + INNOCENT)
def test_contact_details_pass_when_allowed_and_ordinary_numbers_always_do(tenant, shop, text):
    set_default_template(tenant, contact_action="allow")
    allowed = new_group(shop, "Allowed")
    assert body(shop.post_message(allowed["id"], text), 201)["items"][0]["flagged"] is False
    if text in INNOCENT:
        set_default_template(tenant, contact_action="block")
        blocking = new_group(shop, "Blocking")
        assert body(shop.post_message(blocking["id"], text), 201)["items"][0]["flagged"] is False


def test_a_keyword_auto_reply_is_posted_right_after_the_triggering_message(tenant, shop):
    rules = [{"keyword": "Install", "reply": INSTALL_REPLY}, {"keyword": "price", "reply": "P"}]
    set_default_template(tenant, auto_replies=rules)
    group = new_group(shop)
    posted = body(shop.post_message(group["id"], "When will you INSTALL it?"), 201)["items"]
    question, reply = posted
    assert (reply["kind"], reply["sender"], reply["text"]) == (
        "auto_reply",
        "system",
        INSTALL_REPLY,
    )
    assert reply["payload"] == {"in_reply_to": question["id"]}
    assert shop.messages(group["id"])[-2:] == [question, reply]
    # A message without a keyword gets no reply.
    assert len(body(shop.post_message(group["id"], "Thank you"), 201)["items"]) == 1
    # The first rule that matches answers, once.
    both = body(shop.post_message(group["id"], "install price?"), 201)["items"]
    assert [m["text"] for m in both[1:]] == [INSTALL_REPLY]


def test_the_same_client_message_id_twice_is_stored_once(tenant, shop, connection):
    set_default_template(tenant, auto_replies=[{"keyword": "install", "reply": INSTALL_REPLY}])
    group, other = new_group(shop, "Chen"), new_group(shop, "Wang")
    first = shop.post_message(group["id"], "Install date?", client_message_id="c-42")
    assert first.status_code == 201
    before = database_snapshot(connection)
    for text in ("Install date?", "Different text, same id"):
        again = shop.post_message(group["id"], text, client_message_id="c-42")
        assert again.status_code == 200
        assert again.get_json() == first.get_json()  # the message and its auto-reply
    assert database_snapshot(connection) == before
    texts = [m["text"] for m in shop.messages(group["id"])]
    assert texts.count("Install date?") == 1 and texts.count(INSTALL_REPLY) == 1
    # The id is the client's within one group: another group's message is its own.
    elsewhere = shop.post_message(other["id"], "Install date?", client_message_id="c-42")
    assert elsewhere.status_code == 201


def test_text_over_4000_characters_or_blank_is_refused(tenant, shop, connection):
    group = new_group(shop)
    before = database_snapshot(connection)
    assert bad_fields(shop.post_message(group["id"], "x" * 4001)) == {"text"}
    assert bad_fields(shop.post_message(group["id"], " \n ")) == {"text"}
    assert bad_fields(shop.post_message(group["id"], "")) == {"text"}
    assert database_snapshot(connection) == before
    [message] = body(shop.post_message(group["id"], "x" * 4000), 201)["items"]
    assert len(message["text"]) == 4000


def test_a_sender_member_not_seated_is_refused(tenant, shop, connection):
    group = new_group(shop)
    before = database_snapshot(connection)
    for extra in (
        {"sender_member_id": shop.sales_id},  # the dealer's, but not seated
        {"sender_member_id": shop.coordinator_id},
        {"sender_member_id": "01234567-89ab-7def-8123-456789abcdef"},
        {},  # a member must say who
    ):
        response = shop.post_message(group["id"], "Hello", "member", **extra)
        assert bad_fields(response) == {"sender_member_id"}, extra
    assert bad_fields(shop.post_message(group["id"], "Hello", "system")) == {"sender"}
    assert database_snapshot(connection) == before


def test_messages_page_newest_first_and_since_returns_only_newer_oldest_first(tenant, shop):
    group = new_group(shop)
    for n in range(6):
        body(shop.post_message(group["id"], f"Message {n}"), 201)
    path = f"{API}/groups/{group['id']}/messages"
    everything = shop.messages(group["id"])  # oldest first
    assert [m["text"] for m in everything[1:]] == [f"Message {n}" for n in range(6)]

    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = body(tenant.get(path, query_string=query))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything[::-1]

    since = everything[3]["cursor"]  # after "Message 2"
    newer = body(tenant.get(path, query_string={"since": since}))
    assert [m["text"] for m in newer["items"]] == ["Message 3", "Message 4", "Message 5"]
    assert newer["next_cursor"] is None
    first = body(tenant.get(path, query_string={"since": since, "limit": 2}))
    rest = body(tenant.get(path, query_string={"since": since, "cursor": first["next_cursor"]}))
    assert [m["text"] for m in first["items"] + rest["items"]] == [
        "Message 3",
        "Message 4",
        "Message 5",
    ]
    latest = everything[-1]["cursor"]
    assert body(tenant.get(path, query_string={"since": latest}))["items"] == []
    body(shop.post_message(group["id"], "Live"), 201)
    assert [m["text"] for m in body(tenant.get(path, query_string={"since": latest}))["items"]] == [
        "Live"
    ]
    assert bad_fields(tenant.get(path, query_string={"since": "not-a-cursor"})) == {"since"}


def _history(shop, tenant) -> tuple[dict, list[dict]]:
    set_default_template(tenant, auto_replies=[{"keyword": "install", "reply": INSTALL_REPLY}])
    order = shop.order(shop.customer("Chen Jing")["id"], "SO-1")
    group = shop.group(order["group_id"])
    body(shop.post_message(group["id"], 'Quote "this", and a comma,\nthen a new line'), 201)
    body(shop.post_message(group["id"], "安装什么时候? install", client_message_id="zh-1"), 201)
    shop.progress(order["items"][0]["id"], "shipped")
    speak = {"sender": "member", "sender_member_id": shop.owner_id}
    body(shop.post_message(group["id"], "call 139 1234 5678", **speak), 201)
    return group, shop.messages(group["id"])


def test_export_as_jsonl_streams_the_whole_history_in_order(tenant, shop):
    group, history = _history(shop, tenant)
    response = tenant.get(f"{API}/groups/{group['id']}/messages/export")
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="group-{group["id"]}.jsonl"'
    )
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [line["id"] for line in lines] == [m["id"] for m in history]
    assert [line["kind"] for line in lines] == [
        "welcome",
        "text",
        "text",
        "auto_reply",
        "notification",
        "text",
    ]
    for line, message in zip(lines, history, strict=True):
        for key in ("text", "sender", "sender_member_id", "flagged", "payload"):
            assert line[key] == message[key], key
    assert (
        tenant.get(
            f"{API}/groups/{group['id']}/messages/export", query_string={"format": "jsonl"}
        ).get_data()
        == response.get_data()
    )


def test_export_as_csv_streams_the_whole_history_in_order(tenant, shop):
    group, history = _history(shop, tenant)
    response = tenant.get(
        f"{API}/groups/{group['id']}/messages/export", query_string={"format": "csv"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith(f'group-{group["id"]}.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [m["id"] for m in history]
    assert [row["text"] for row in rows] == [m["text"] for m in history]
    assert [row["client_message_id"] for row in rows][2] == "zh-1"
    assert [row["flagged"] for row in rows][-1] == "True"
    notification = next(row for row in rows if row["kind"] == "notification")
    assert json.loads(notification["payload"])["milestone"] == "shipped"


def test_an_unknown_export_format_is_refused(tenant, shop):
    group = new_group(shop)
    path = f"{API}/groups/{group['id']}/messages/export"
    assert bad_fields(tenant.get(path, query_string={"format": "xml"})) == {"format"}


def test_another_chains_key_sees_none_of_the_groups_or_messages(
    tenant, shop, other_tenant, connection
):
    group = new_group(shop)
    body(shop.post_message(group["id"], "Private"), 201)
    theirs = open_shop(other_tenant)
    own = new_group(theirs, "Their customer")
    assert [g["id"] for g in groups(other_tenant)] == [own["id"]]
    before = database_snapshot(connection)
    path = f"{API}/groups/{group['id']}"
    for response in (
        other_tenant.get(path),
        other_tenant.get(f"{path}/messages"),
        other_tenant.get(f"{path}/messages", query_string={"since": own["id"]}),
        other_tenant.get(f"{path}/messages/export"),
        other_tenant.post(f"{path}/messages", json={"text": "Hi", "sender": "customer"}),
        other_tenant.patch(path, json={"rename_locked": False}),
        seat(other_tenant, group["id"], theirs.coordinator_id),
    ):
        assert_error(response, 404, "not_found")
    assert database_snapshot(connection) == before
    their_messages = theirs.messages(own["id"])
    assert "Private" not in json.dumps(their_messages)


def test_message_length_is_judged_without_surrounding_whitespace(acme):
    text = "好" * 4000
    response = acme.tenant.post(
        f"/api/v1/groups/{acme.delivery_group_id}/messages",
        json={"sender": "customer", "text": f"  {text} \n"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["items"][0]["text"] == text
