"""Channels: a group's robots and callback URLs, through the brand API. Made, read with their
keys masked, changed, paused and resumed, removed; their delivery log and retries; and the
chain's own settings the pushes follow (time zone, quiet hours, broadcast quota)."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.channels.models import Channel, Delivery, DeliveryAttempt, DeliveryState
from service.db import new_id, utcnow
from tests.blueprints.brand_api.chain_world import (
    API,
    LOOPBACK_URL,
    assert_error,
    bad_fields,
    body,
    database_snapshot,
)

WHSEC = "whsec_" + base64.b64encode(bytes(range(32))).decode()
# One URL of each type's shape, on loopback (the tests' outbound policy allows it, and no
# name is looked up); the key each carries, which answers must never show whole.
TYPES = {
    "wecom_robot": (
        "http://127.0.0.1:9/cgi-bin/webhook/send?key=693a91f6-7f2e-4bc4-97a0-0ec2a1fa5aaa",
        None,
        "693a91f6-7f2e-4bc4-97a0-0ec2a1fa5aaa",
    ),
    "feishu_robot": (
        "http://127.0.0.1:9/open-apis/bot/v2/hook/0f8a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8",
        "feishu-signing-secret",
        "0f8a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8",
    ),
    "dingtalk_robot": (
        "http://127.0.0.1:9/robot/send?access_token=1f2e3d4c5b6a79880f1e2d3c4b5a6978",
        "SEC0123456789abcdefABCDEF",
        "1f2e3d4c5b6a79880f1e2d3c4b5a6978",
    ),
    "slack": (
        "http://127.0.0.1:9/services/T0000AAAA/B0000BBBB/abcdefghijklmnopqrstuvwx",
        None,
        "abcdefghijklmnopqrstuvwx",
    ),
    "webhook": ("http://127.0.0.1:9/callbacks/chain-collab", WHSEC, None),
}
CHANNEL_FIELDS = {
    "id", "group_id", "type", "name", "url", "customer_facing", "rate_limit_per_minute",
    "state", "state_reason", "failing_since", "last_pushed_at", "created_at",
}  # fmt: skip


@pytest.fixture
def group_id(shop) -> str:
    return shop.order(shop.customer()["id"], "SO-1")["group_id"]


def add_channel(tenant, group_id: str, **payload):
    payload = {"type": "webhook", "url": LOOPBACK_URL, **payload}
    return tenant.post(f"{API}/groups/{group_id}/channels", json=payload)


def channel(tenant, group_id: str, **payload) -> dict:
    return body(add_channel(tenant, group_id, **payload), 201)


def channels_of(tenant, group_id: str) -> list[dict]:
    return body(tenant.get(f"{API}/groups/{group_id}/channels"))["items"]


def change(tenant, channel_id: str, **changes):
    return tenant.patch(f"{API}/channels/{channel_id}", json=changes)


def message_ids(shop, group_id: str, count: int) -> list[str]:
    """Ids of `count` new customer messages in the group, oldest first."""
    return [
        body(shop.post_message(group_id, f"Question {n}"), 201)["items"][0]["id"]
        for n in range(count)
    ]


def owe(session, tenant, channel_id: str, message_id: str, **columns) -> Delivery:
    delivery = Delivery(
        id=new_id(),
        chain_id=tenant.chain_id,
        channel_id=uuid.UUID(channel_id),
        message_id=uuid.UUID(message_id),
        **columns,
    )
    session.add(delivery)
    session.commit()
    return delivery


def attempt(session, delivery: Delivery, outcome: str, **columns) -> DeliveryAttempt:
    row = DeliveryAttempt(
        id=new_id(),
        chain_id=delivery.chain_id,
        channel_id=delivery.channel_id,
        delivery_id=delivery.id,
        push_id=uuid.uuid4(),
        started_at=utcnow(),
        outcome=outcome,
        **columns,
    )
    session.add(row)
    session.commit()
    return row


def stored(session, model, id_: str):
    """The row as the app left it (the test's session may hold an older copy)."""
    return session.get(model, uuid.UUID(id_), populate_existing=True)


# Creating


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_is_created_with_its_key_masked_and_no_given_secret_echoed(
    tenant, group_id, session, type_
):
    url, secret, key = TYPES[type_]
    response = add_channel(tenant, group_id, type=type_, url=url, secret=secret, name="Store")
    created = body(response, 201)
    assert set(created) == CHANNEL_FIELDS | {"secret"}
    assert created["secret"] is None  # a secret the brand gave is not sent back
    assert created["type"] == type_
    assert created["group_id"] == group_id
    assert created["name"] == "Store"
    # A brand's callback may reach the customer; a robot posts into a staff group.
    assert (created["customer_facing"], created["rate_limit_per_minute"]) == (
        type_ == "webhook",
        20,
    )
    assert (created["state"], created["state_reason"]) == ("active", None)
    assert created["failing_since"] is None and created["last_pushed_at"] is None
    if key:
        assert created["url"].startswith(url.removesuffix(key) + key[:4])
        assert key not in response.get_data(as_text=True)
    else:
        assert created["url"] == url
    read = body(tenant.get(f"{API}/channels/{created['id']}"))
    assert read == {name: value for name, value in created.items() if name != "secret"}
    row = stored(session, Channel, created["id"])
    assert (row.url, row.secret) == (url, secret)


def test_a_webhook_given_no_secret_gets_one_made_and_shown_this_once(tenant, group_id, session):
    response = add_channel(tenant, group_id, type="webhook")
    created = body(response, 201)
    made = created["secret"]
    assert made.startswith("whsec_")
    assert len(base64.b64decode(made.removeprefix("whsec_"))) >= 24
    assert stored(session, Channel, created["id"]).secret == made
    path = f"{API}/channels/{created['id']}"
    for read in (tenant.get(path), tenant.get(f"{API}/groups/{group_id}/channels")):
        assert made not in read.get_data(as_text=True)
    assert "secret" not in body(tenant.get(path))
    assert "secret" not in body(change(tenant, created["id"], name="Renamed"))


def test_the_defaults_can_be_set_on_creation(tenant, group_id):
    created = channel(tenant, group_id, customer_facing=False, rate_limit_per_minute=6000)
    assert (created["customer_facing"], created["rate_limit_per_minute"]) == (False, 6000)


def test_a_robot_is_customer_facing_when_told(tenant, group_id):
    url, _, _ = TYPES["wecom_robot"]
    created = channel(tenant, group_id, type="wecom_robot", url=url, customer_facing=True)
    assert created["customer_facing"] is True


def test_a_private_url_is_refused_naming_the_setting_that_allows_it(tenant, group_id):
    error = assert_error(add_channel(tenant, group_id, url="http://10.0.0.1/hook"), 422)
    [reason] = error["details"]["fields"]["url"]
    assert "private and loopback addresses are not allowed" in reason
    assert "OUTBOUND_ALLOWED_NETWORKS" in reason


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "https://127.9.9.9/hook", "http://[::1]:9/hook"]
)
def test_loopback_is_allowed_by_the_tests_outbound_policy(tenant, group_id, url):
    assert body(add_channel(tenant, group_id, url=url), 201)["url"] == url


BAD_CHANNELS = [
    ({"type": "telegram"}, {"type"}),
    ({"type": None, "url": None}, {"type", "url"}),
    ({"url": ""}, {"url"}),
    ({"url": "ftp://127.0.0.1/hook"}, {"url"}),
    ({"url": "127.0.0.1/hook"}, {"url"}),
    ({"url": "http://10.0.0.1/hook"}, {"url"}),
    ({"url": "http://192.168.1.1/hook"}, {"url"}),
    ({"url": "http://169.254.169.254/latest/meta-data"}, {"url"}),
    ({"url": "http://[fd00::1]/hook"}, {"url"}),
    ({"url": "http://0x0a000001/hook"}, {"url"}),
    ({"url": "http://user:pass@127.0.0.1/hook"}, {"url"}),
    ({"url": "http://127.0.0.1/" + "x" * 2000}, {"url"}),
    ({"type": "wecom_robot", "secret": "SEC123"}, {"secret"}),
    ({"type": "slack", "secret": "anything"}, {"secret"}),
    ({"type": "dingtalk_robot", "secret": "not-sec"}, {"secret"}),
    ({"type": "webhook", "secret": "not-a-whsec"}, {"secret"}),
    ({"type": "webhook", "secret": "whsec_c2hvcnQ="}, {"secret"}),  # 5 bytes
    ({"rate_limit_per_minute": 0}, {"rate_limit_per_minute"}),
    ({"rate_limit_per_minute": 6001}, {"rate_limit_per_minute"}),
    ({"rate_limit_per_minute": "many"}, {"rate_limit_per_minute"}),
    ({"name": "x" * 101}, {"name"}),
    ({"name": "Nul\x00Hook"}, {"name"}),
    ({"url": "http://127.0.0.1/\x00"}, {"url"}),
    ({"secret": "whsec_\x00"}, {"secret"}),
    ({"colour": "red", "state": "paused"}, {"colour", "state"}),
]


@pytest.mark.parametrize(
    ("payload", "fields"), BAD_CHANNELS, ids=[str(sorted(p)) for p, _ in BAD_CHANNELS]
)
def test_a_bad_channel_is_refused_naming_each_bad_field(
    tenant, group_id, connection, payload, fields
):
    before = database_snapshot(connection)
    assert bad_fields(add_channel(tenant, group_id, **payload)) == fields
    assert database_snapshot(connection) == before


def test_a_group_has_at_most_10_channels_counting_only_those_not_removed(tenant, group_id):
    made = [channel(tenant, group_id, name=f"Hook {n}")["id"] for n in range(10)]
    assert_error(add_channel(tenant, group_id), 409, "too_many_channels")
    assert len(channels_of(tenant, group_id)) == 10
    assert tenant.delete(f"{API}/channels/{made[0]}").status_code == 204
    channel(tenant, group_id, name="Hook 10")


def test_another_chains_group_and_channels_are_not_found(tenant, other_tenant, group_id):
    mine = channel(tenant, group_id)["id"]
    before = channels_of(tenant, group_id)
    assert_error(add_channel(other_tenant, group_id), 404, "not_found")
    assert_error(other_tenant.get(f"{API}/groups/{group_id}/channels"), 404, "not_found")
    assert_error(other_tenant.get(f"{API}/channels/{mine}"), 404, "not_found")
    assert_error(change(other_tenant, mine, state="paused"), 404, "not_found")
    assert_error(other_tenant.delete(f"{API}/channels/{mine}"), 404, "not_found")
    assert_error(other_tenant.get(f"{API}/channels/{mine}/deliveries"), 404, "not_found")
    assert channels_of(tenant, group_id) == before


# Reading, changing, removing


def test_a_group_lists_its_channels_oldest_first_and_only_its_own(tenant, shop, group_id):
    other_group = shop.order(shop.customer("Wang Wei")["id"], "SO-2")["group_id"]
    first = channel(tenant, group_id, name="First")
    second = channel(tenant, group_id, type="slack", url=TYPES["slack"][0], name="Second")
    elsewhere = channel(tenant, other_group, name="Elsewhere")
    listed = channels_of(tenant, group_id)
    assert [c["id"] for c in listed] == [first["id"], second["id"]]
    assert listed[1] == body(tenant.get(f"{API}/channels/{second['id']}"))
    assert TYPES["slack"][2] not in str(listed)
    assert [c["id"] for c in channels_of(tenant, other_group)] == [elsewhere["id"]]


def test_a_channel_is_renamed_and_changed(tenant, group_id, session):
    made = channel(tenant, group_id, type="dingtalk_robot", url=TYPES["dingtalk_robot"][0])
    changes = {
        "name": "Store robot",
        "url": "http://127.0.0.1:10/robot/send?access_token=new",
        "secret": "SECnew",
        "customer_facing": False,
        "rate_limit_per_minute": 10,
    }
    changed = body(change(tenant, made["id"], **changes))
    assert changed["name"] == "Store robot"
    assert (changed["customer_facing"], changed["rate_limit_per_minute"]) == (False, 10)
    assert changed["url"] == "http://127.0.0.1:10/robot/send?access_token=new"
    assert "secret" not in changed
    assert body(tenant.get(f"{API}/channels/{made['id']}")) == changed
    assert stored(session, Channel, made["id"]).secret == "SECnew"
    body(change(tenant, made["id"], secret=None))
    assert stored(session, Channel, made["id"]).secret is None  # a robot without signing


def test_a_channel_is_paused_and_resumed_and_what_it_owes_is_due_at_once(
    tenant, shop, group_id, session
):
    made = channel(tenant, group_id)
    paused = body(change(tenant, made["id"], state="paused"))
    assert (paused["state"], paused["state_reason"]) == ("paused", "Paused by the brand.")
    later = utcnow() + timedelta(hours=1)
    [message] = message_ids(shop, group_id, 1)
    held = owe(session, tenant, made["id"], message, due_at=later)
    resumed = body(change(tenant, made["id"], state="active"))
    assert (resumed["state"], resumed["state_reason"]) == ("active", None)
    assert stored(session, Delivery, str(held.id)).due_at <= utcnow()


def test_a_channel_state_other_than_active_or_paused_is_refused(tenant, group_id, connection):
    made = channel(tenant, group_id)
    before = database_snapshot(connection)
    assert bad_fields(change(tenant, made["id"], state="disabled")) == {"state"}
    assert bad_fields(change(tenant, made["id"], state="gone", colour="red")) == {
        "state",
        "colour",
    }
    assert database_snapshot(connection) == before


BAD_CHANGES = [
    ("webhook", {"url": "http://10.0.0.1/hook"}, {"url"}),
    ("webhook", {"url": "ftp://127.0.0.1/hook", "name": "Renamed"}, {"url"}),
    ("webhook", {"secret": None}, {"secret"}),  # its pushes are signed
    ("webhook", {"secret": "   "}, {"secret"}),
    ("webhook", {"secret": "whsec_short"}, {"secret"}),
    ("wecom_robot", {"secret": "SEC123"}, {"secret"}),
    ("dingtalk_robot", {"secret": "abc"}, {"secret"}),
    ("webhook", {"rate_limit_per_minute": 0, "name": "x" * 101},
     {"rate_limit_per_minute", "name"}),
    ("webhook", {"type": "slack"}, {"type"}),  # a channel keeps its type
    ("webhook", {"name": "Nul\x00"}, {"name"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("type_", "changes", "fields"),
    BAD_CHANGES,
    ids=[f"{t} {sorted(c)}" for t, c, _ in BAD_CHANGES],
)
def test_a_bad_change_is_refused_and_changes_nothing(
    tenant, group_id, connection, type_, changes, fields
):
    url, secret, _ = TYPES[type_]
    made = channel(tenant, group_id, type=type_, url=url, secret=secret)
    before = database_snapshot(connection)
    assert bad_fields(change(tenant, made["id"], **changes)) == fields
    assert database_snapshot(connection) == before


def test_a_removed_channel_is_gone_and_gives_up_what_it_owed(tenant, shop, group_id, session):
    made = channel(tenant, group_id)
    kept = channel(tenant, group_id)
    owed, sent = message_ids(shop, group_id, 2)
    pending = owe(session, tenant, made["id"], owed)
    delivered = owe(session, tenant, made["id"], sent, state=DeliveryState.DELIVERED)
    response = tenant.delete(f"{API}/channels/{made['id']}")
    assert response.status_code == 204 and response.get_data() == b""
    assert [c["id"] for c in channels_of(tenant, group_id)] == [kept["id"]]
    path = f"{API}/channels/{made['id']}"
    for response in (
        tenant.get(path),
        change(tenant, made["id"], name="Back?"),
        tenant.delete(path),
        tenant.get(f"{path}/deliveries"),
        tenant.post(f"{path}/deliveries/{delivered.id}:retry"),
    ):
        assert_error(response, 404, "not_found")
    failed = stored(session, Delivery, str(pending.id))
    assert (failed.state, failed.last_error) == ("failed", "The channel was removed.")
    assert stored(session, Delivery, str(delivered.id)).state == "delivered"


# The delivery log


def test_the_delivery_log_is_newest_first_with_each_deliverys_attempts_oldest_first(
    tenant, shop, group_id, session
):
    made = channel(tenant, group_id)
    first, second, third = message_ids(shop, group_id, 3)
    delivered = owe(session, tenant, made["id"], first, state=DeliveryState.DELIVERED)
    retrying = owe(session, tenant, made["id"], second, attempts=2, last_error="HTTP 500")
    waiting = owe(session, tenant, made["id"], third)
    failed_once = attempt(session, retrying, "retry", status_code=500, latency_ms=30,
                          response_excerpt="oops", error="HTTP 500")  # fmt: skip
    timed_out = attempt(session, retrying, "timeout", error="No answer in 10 s")
    ok = attempt(session, delivered, "delivered", status_code=200, latency_ms=12, requests=2)

    log = body(tenant.get(f"{API}/channels/{made['id']}/deliveries"))
    assert log["next_cursor"] is None
    items = log["items"]
    assert [d["id"] for d in items] == [str(waiting.id), str(retrying.id), str(delivered.id)]
    assert [d["message_id"] for d in items] == [third, second, first]
    assert [d["state"] for d in items] == ["pending", "pending", "delivered"]
    assert [d["failures"] for d in items] == [0, 2, 0]
    assert [(d["held_for"], d["held_until"]) for d in items] == [(None, None)] * 3
    assert items[0]["attempts"] == []
    assert items[1]["last_error"] == "HTTP 500"
    assert [a["id"] for a in items[1]["attempts"]] == [str(failed_once.id), str(timed_out.id)]
    assert items[1]["attempts"][0] == {
        "id": str(failed_once.id),
        "push_id": str(failed_once.push_id),
        "started_at": items[1]["attempts"][0]["started_at"],
        "outcome": "retry",
        "status_code": 500,
        "latency_ms": 30,
        "requests": 1,
        "response_excerpt": "oops",
        "error": "HTTP 500",
    }
    assert [(a["outcome"], a["status_code"]) for a in items[1]["attempts"]] == [
        ("retry", 500),
        ("timeout", None),
    ]
    assert [(a["id"], a["requests"]) for a in items[2]["attempts"]] == [(str(ok.id), 2)]


def test_the_delivery_log_is_filtered_by_state_and_paged_by_cursor(tenant, shop, group_id, session):
    made = channel(tenant, group_id)
    other = channel(tenant, group_id)
    messages = message_ids(shop, group_id, 5)
    states = ["delivered", "failed", "delivered", "pending", "delivered"]
    owed = [
        owe(session, tenant, made["id"], message, state=state)
        for message, state in zip(messages, states, strict=True)
    ]
    owe(session, tenant, other["id"], messages[0], state="delivered")  # another channel's
    path = f"{API}/channels/{made['id']}/deliveries"

    def ids(query) -> list[str]:
        return [d["id"] for d in body(tenant.get(path, query_string=query))["items"]]

    newest_first = [str(d.id) for d in reversed(owed)]
    assert ids({}) == newest_first
    assert ids({"state": "delivered"}) == [newest_first[i] for i in (0, 2, 4)]
    assert ids({"state": "failed"}) == [str(owed[1].id)]
    assert ids({"state": "sending"}) == []
    assert bad_fields(tenant.get(path, query_string={"state": "lost"})) == {"state"}

    pages, cursor = [], None
    while True:
        query = {"limit": 2, "state": "delivered", **({"cursor": cursor} if cursor else {})}
        page = body(tenant.get(path, query_string=query))
        pages.append([d["id"] for d in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [[newest_first[0], newest_first[2]], [newest_first[4]]]
    assert bad_fields(tenant.get(path, query_string={"cursor": "nope"})) == {"cursor"}


# Retrying


@pytest.fixture
def hook(tenant, group_id) -> dict:
    return channel(tenant, group_id)


@pytest.fixture
def message_id(shop, group_id) -> str:
    return message_ids(shop, group_id, 1)[0]


def retry(tenant, channel_id, delivery_id):
    return tenant.post(f"{API}/channels/{channel_id}/deliveries/{delivery_id}:retry")


def test_retrying_a_failed_delivery_makes_it_due_now(tenant, hook, message_id, session):
    later = utcnow() + timedelta(hours=1)
    failed = owe(session, tenant, hook["id"], message_id, state="failed", attempts=3,
                 due_at=later, last_error="HTTP 500")  # fmt: skip
    earlier = attempt(session, failed, "retry", status_code=500)
    answer = body(retry(tenant, hook["id"], failed.id), 202)
    assert (answer["id"], answer["state"]) == (str(failed.id), "pending")
    assert [a["id"] for a in answer["attempts"]] == [str(earlier.id)]
    row = stored(session, Delivery, str(failed.id))
    assert (row.state, row.replays, row.key) == ("pending", 0, f"msg_{failed.id.hex}")
    assert row.due_at <= utcnow()
    logged = body(tenant.get(f"{API}/channels/{hook['id']}/deliveries"))["items"]
    assert [(d["id"], d["state"]) for d in logged] == [(str(failed.id), "pending")]


def test_retrying_a_delivered_delivery_replays_it_under_a_new_key(
    tenant, hook, message_id, session
):
    delivered = owe(session, tenant, hook["id"], message_id, state="delivered")
    key = delivered.key
    body(retry(tenant, hook["id"], delivered.id), 202)
    row = stored(session, Delivery, str(delivered.id))
    assert (row.state, row.replays) == ("pending", 1)
    assert row.key != key and row.key == f"{key}_r1"
    row.state = DeliveryState.DELIVERED
    session.commit()
    body(retry(tenant, hook["id"], delivered.id), 202)
    assert stored(session, Delivery, str(delivered.id)).key == f"{key}_r2"


def test_a_paused_channels_delivery_is_not_retried(tenant, hook, message_id, connection, session):
    failed = owe(session, tenant, hook["id"], message_id, state="failed")
    body(change(tenant, hook["id"], state="paused"))
    before = database_snapshot(connection)
    assert_error(retry(tenant, hook["id"], failed.id), 409, "channel_not_active")
    assert database_snapshot(connection) == before


def test_the_log_says_why_and_until_when_a_delivery_is_held(tenant, shop, group_id, session):
    made = channel(tenant, group_id)
    first, second = message_ids(shop, group_id, 2)
    until = utcnow() + timedelta(hours=7)
    quiet = owe(session, tenant, made["id"], first, due_at=until, held_for="quiet_hours")
    owe(session, tenant, made["id"], second, due_at=until, held_for="quiet_hours")
    items = body(tenant.get(f"{API}/channels/{made['id']}/deliveries"))["items"]
    assert [d["held_for"] for d in items] == ["quiet_hours", "quiet_hours"]
    assert items[1]["id"] == str(quiet.id)
    assert items[1]["held_until"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize("held_for", ["quiet_hours", "coalescing", "rate_limit"])
def test_retrying_a_held_delivery_says_when_it_will_go_and_changes_nothing(
    tenant, hook, message_id, connection, session, held_for
):
    until = utcnow() + timedelta(minutes=30)
    held = owe(session, tenant, hook["id"], message_id, due_at=until, held_for=held_for)
    before = database_snapshot(connection)
    error = assert_error(retry(tenant, hook["id"], held.id), 409, "delivery_held")
    assert error["details"]["held_for"] == held_for
    assert error["details"]["held_until"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    assert until.strftime("%H:%M:%S") in error["message"]
    assert database_snapshot(connection) == before


def test_retrying_a_delivery_in_backoff_sends_it_now_with_those_waiting_behind_it(
    tenant, shop, group_id, hook, session
):
    first, second = message_ids(shop, group_id, 2)
    until = utcnow() + timedelta(minutes=30)
    older = owe(session, tenant, hook["id"], first, due_at=until, held_for="backoff", attempts=2)
    newer = owe(session, tenant, hook["id"], second, due_at=until, held_for="backoff")
    answer = body(retry(tenant, hook["id"], older.id), 202)
    assert (answer["state"], answer["held_for"], answer["held_until"]) == ("pending", None, None)
    for delivery in (older, newer):
        row = stored(session, Delivery, str(delivery.id))
        assert (row.held_for, row.due_at <= utcnow()) == (None, True)


def test_a_delivery_being_sent_is_not_retried(tenant, hook, message_id, connection, session):
    sending = owe(session, tenant, hook["id"], message_id, state="sending")
    before = database_snapshot(connection)
    assert_error(retry(tenant, hook["id"], sending.id), 409, "delivery_in_flight")
    assert database_snapshot(connection) == before


def test_a_delivery_is_retried_only_through_its_own_channel(
    tenant, group_id, hook, message_id, connection, session
):
    other = channel(tenant, group_id)
    failed = owe(session, tenant, hook["id"], message_id, state="failed")
    before = database_snapshot(connection)
    assert_error(retry(tenant, other["id"], failed.id), 404, "not_found")
    assert_error(retry(tenant, hook["id"], uuid.uuid4()), 404, "not_found")
    assert database_snapshot(connection) == before
    assert session.scalar(select(Delivery.state).where(Delivery.id == failed.id)) == "failed"


# The chain's settings


def chain_settings(tenant) -> dict:
    return body(tenant.get(f"{API}/chain"))


def test_the_chain_settings_are_read_with_their_defaults(tenant):
    assert chain_settings(tenant) == {
        "id": str(tenant.chain_id),
        "name": "Acme Home",
        "timezone": "Asia/Shanghai",
        "language": "zh-CN",
        "quiet_hours": {"start": "22:00", "end": "08:00"},
        "business_hours": {"start": "09:00", "end": "21:00"},
        "broadcast_quota": None,
        "created_at": chain_settings(tenant)["created_at"],
    }


def test_the_chain_settings_are_changed(tenant):
    before = chain_settings(tenant)
    changes = {
        "name": "  Acme Living ",
        "timezone": "Europe/Berlin",
        "language": "en",
        "quiet_hours": {"start": "21:30", "end": "07:15"},
        "business_hours": {"start": "10:00", "end": "22:30"},
        "broadcast_quota": 4,
    }
    changed = body(tenant.patch(f"{API}/chain", json=changes))
    assert changed == {
        **before,
        "name": "Acme Living",
        "timezone": "Europe/Berlin",
        "language": "en",
        "quiet_hours": {"start": "21:30", "end": "07:15"},
        "business_hours": {"start": "10:00", "end": "22:30"},
        "broadcast_quota": 4,
    }
    assert chain_settings(tenant) == changed
    # A field left out is left as it is.
    assert body(tenant.patch(f"{API}/chain", json={"broadcast_quota": 0})) == {
        **changed,
        "broadcast_quota": 0,
    }


def test_quiet_hours_and_the_broadcast_quota_may_be_null(tenant):
    body(tenant.patch(f"{API}/chain", json={"broadcast_quota": 1000}))
    changed = body(
        tenant.patch(f"{API}/chain", json={"quiet_hours": None, "broadcast_quota": None})
    )
    assert (changed["quiet_hours"], changed["broadcast_quota"]) == (None, None)
    assert chain_settings(tenant) == changed


BAD_SETTINGS = [
    ({"timezone": "Mars/Olympus_Mons"}, {"timezone"}),
    ({"timezone": "America"}, {"timezone"}),  # a directory of the zone database
    ({"timezone": "../etc/passwd"}, {"timezone"}),
    ({"timezone": "zone.tab"}, {"timezone"}),
    ({"timezone": ""}, {"timezone"}),
    ({"timezone": None}, {"timezone"}),
    ({"timezone": "Asia/\x00"}, {"timezone"}),
    ({"name": "   "}, {"name"}),
    ({"language": "zh-TW"}, {"language"}),
    ({"language": None}, {"language"}),
    ({"name": "x" * 201}, {"name"}),
    # Inside an object, the bad field is named by its path.
    ({"quiet_hours": {"start": "24:00", "end": "08:00"}}, {"quiet_hours.start"}),
    ({"quiet_hours": {"start": "7:00", "end": "08:00"}}, {"quiet_hours.start"}),
    ({"quiet_hours": {"start": "22:00", "end": "08:60"}}, {"quiet_hours.end"}),
    ({"quiet_hours": {"start": "22:00"}}, {"quiet_hours.end"}),
    ({"quiet_hours": "22:00-08:00"}, {"quiet_hours"}),
    ({"quiet_hours": {"start": "22:00", "end": "08:00", "days": 5}}, {"quiet_hours.days"}),
    # Business hours are one stretch of a day: they end after they start.
    ({"business_hours": {"start": "21:00", "end": "09:00"}}, {"business_hours"}),
    ({"business_hours": {"start": "09:00", "end": "09:00"}}, {"business_hours"}),
    ({"business_hours": None}, {"business_hours"}),
    ({"business_hours": {"start": "9:00", "end": "21:00"}}, {"business_hours.start"}),
    ({"broadcast_quota": -1}, {"broadcast_quota"}),
    ({"broadcast_quota": 1001}, {"broadcast_quota"}),
    ({"broadcast_quota": "lots"}, {"broadcast_quota"}),
    ({"id": str(uuid.UUID(int=1)), "created_at": "2030-01-01T00:00:00Z"}, {"id", "created_at"}),
    ({"colour": "red", "timezone": "UTC"}, {"colour"}),
]


@pytest.mark.parametrize(
    ("changes", "fields"), BAD_SETTINGS, ids=[repr(c)[:60] for c, _ in BAD_SETTINGS]
)
def test_bad_chain_settings_are_refused_naming_each_field(tenant, connection, changes, fields):
    before = database_snapshot(connection)
    assert bad_fields(tenant.patch(f"{API}/chain", json=changes)) == fields
    assert database_snapshot(connection) == before
