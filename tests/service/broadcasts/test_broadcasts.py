"""Broadcasts: one message to the groups of customers chosen by tag, by dealer or all, within
each customer's monthly quota in the chain's own calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from service.broadcasts.broadcasts import list_broadcasts, send_broadcast
from service.broadcasts.models import Broadcast, BroadcastRecipient
from service.chain.chains import update_chain
from service.customers.models import Customer
from service.db import get_in_chain
from service.errors import Invalid, NotFound
from service.groups.groups import ensure_delivery_group, group_of_customer
from service.groups.messages import MAX_TEXT
from service.groups.models import Message
from service.notify.models import OutboxEvent
from tests.service.customers import chain_world
from tests.service.customers.chain_world import ChainWorld, race

# The chain-world fixtures, as the sibling packages' conftest files provide them.
acme, rival, racing = chain_world.acme, chain_world.rival, chain_world.racing

MID_NOVEMBER = datetime(2026, 11, 16, 4, 0, tzinfo=UTC)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def send(world: ChainWorld, text: str = "Spring sale: 20% off wardrobes", **audience):
    return send_broadcast(world.session, chain_id=world.id, text=text, **audience)


def with_group(world: ChainWorld, name: str = "Wang Fang", **customer) -> Customer:
    """A customer who has ordered, and so has a delivery group."""
    buyer = world.customer(name, **customer)
    world.order(buyer)
    return buyer


def broadcast_messages(world: ChainWorld, broadcast: Broadcast) -> list[Message]:
    messages = world.session.scalars(
        select(Message)
        .where(Message.chain_id == world.id, Message.kind == "broadcast")
        .order_by(Message.id)
    )
    return [m for m in messages if m.payload == {"broadcast_id": str(broadcast.id)}]


def reached(world: ChainWorld, broadcast: Broadcast) -> set:
    """Ids of the customers a broadcast was posted to."""
    return set(
        world.session.scalars(
            select(BroadcastRecipient.customer_id).where(
                BroadcastRecipient.broadcast_id == broadcast.id,
                BroadcastRecipient.message_id.is_not(None),
            )
        )
    )


def set_quota(world: ChainWorld, quota: int | None) -> None:
    world.chain.broadcast_quota = quota
    world.session.flush()


# Audiences


def test_a_broadcast_by_tag_reaches_the_customers_with_the_tag(acme):
    vip = with_group(acme, "Wang Fang", tags=["vip", "renovation"])
    elsewhere = {"dealer": acme.other_dealer, "owner": acme.their_owner}
    other_vip = with_group(acme, "Liu Yang", tags=["vip"], **elsewhere)
    with_group(acme, "Zhang Wei", tags=["renovation"])
    with_group(acme, "Zhou Jie")

    broadcast = send(acme, tag=" vip ")

    assert broadcast.audience == {"tag": "vip"}
    assert (broadcast.sent, broadcast.skipped_by_quota) == (2, 0)
    assert reached(acme, broadcast) == {vip.id, other_vip.id}


def test_a_tag_matches_whole_tags_only(acme):
    with_group(acme, tags=["vip-gold"])

    assert send(acme, tag="vip").sent == 0


def test_a_broadcast_by_dealer_reaches_that_dealers_customers_only(acme):
    ours = [with_group(acme, "Wang Fang"), with_group(acme, "Liu Yang", tags=["vip"])]
    with_group(acme, "Zhang Wei", dealer=acme.other_dealer, owner=acme.their_owner)

    broadcast = send(acme, dealer_id=acme.dealer.id)

    assert broadcast.audience == {"dealer_id": str(acme.dealer.id)}
    assert broadcast.sent == 2
    assert reached(acme, broadcast) == {customer.id for customer in ours}


def test_a_broadcast_to_all_reaches_every_customer_of_the_chain_and_no_other(acme, rival):
    everyone = {
        with_group(acme, "Wang Fang").id,
        with_group(acme, "Liu Yang", dealer=acme.other_dealer, owner=acme.their_owner).id,
    }
    with_group(rival, "Wang Fang")

    broadcast = send(acme, all=True)

    assert broadcast.audience == {"all": True}
    assert broadcast.sent == 2
    assert reached(acme, broadcast) == everyone
    assert rival.count(Message, Message.kind == "broadcast") == 0


def test_customers_without_a_group_are_not_counted_at_all(acme):
    with_group(acme, tags=["vip"])
    acme.customer("Liu Yang", tags=["vip"])  # no order yet, so no group

    for audience in ({"tag": "vip"}, {"dealer_id": acme.dealer.id}, {"all": True}):
        broadcast = send(acme, **audience)
        assert (broadcast.sent, broadcast.skipped_by_quota) == (1, 0), audience
    assert acme.count(BroadcastRecipient) == 3


def test_an_audience_of_nobody_is_a_broadcast_sent_to_nobody(acme):
    broadcast = send(acme, tag="nobody has this")

    assert (broadcast.sent, broadcast.skipped_by_quota) == (0, 0)
    assert acme.count(Broadcast) == 1


# What a sent broadcast writes


def test_each_group_gets_the_message_to_be_planned(acme):
    buyers = [with_group(acme, "Wang Fang"), with_group(acme, "Liu Yang")]

    with at(MID_NOVEMBER):
        broadcast = send(acme, text="  Spring sale  ", all=True)

    assert broadcast.text == "Spring sale"
    messages = broadcast_messages(acme, broadcast)
    groups = {group_of_customer(acme.session, buyer.id).id for buyer in buyers}
    assert {message.group_id for message in messages} == groups
    for message in messages:
        assert (message.sender, message.kind, message.text) == (
            "system",
            "broadcast",
            "Spring sale",
        )
        assert message.planned_at is None  # its own outbox entry: put on the channels next
    recipients = acme.session.scalars(
        select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast.id)
    ).all()
    assert {r.message_id for r in recipients} == {m.id for m in messages}
    assert {r.month for r in recipients} == {"2026-11"}


def test_the_broadcast_can_be_read_back_and_listed_newest_first(acme, rival):
    first, second = send(acme, tag="a"), send(acme, tag="b")
    send(rival, all=True)

    assert get_in_chain(acme.session, Broadcast, acme.id, first.id) is first
    page = list_broadcasts(acme.session, chain_id=acme.id, limit=1)
    assert [b.id for b in page.items] == [second.id]
    rest = list_broadcasts(acme.session, chain_id=acme.id, cursor=page.next_cursor)
    assert ([b.id for b in rest.items], rest.next_cursor) == ([first.id], None)


def test_another_chains_broadcast_is_not_found(acme, rival):
    theirs = send(rival, all=True)

    with pytest.raises(NotFound):
        get_in_chain(acme.session, Broadcast, acme.id, theirs.id)
    with pytest.raises(NotFound):
        get_in_chain(acme.session, Broadcast, acme.id, uuid.uuid4())


# The monthly quota


@pytest.mark.parametrize(
    ("moment", "days"),
    [
        (datetime(2027, 2, 10, 4, 0, tzinfo=UTC), 28),
        (datetime(2028, 2, 10, 4, 0, tzinfo=UTC), 29),
        (datetime(2027, 4, 10, 4, 0, tzinfo=UTC), 30),
    ],
)
def test_by_default_a_customer_receives_as_many_as_the_month_has_days(acme, moment, days):
    assert acme.chain.broadcast_quota is None
    buyer = with_group(acme)

    with at(moment):
        sent = [send(acme, text=f"News {n}", all=True) for n in range(days + 1)]

    assert [b.sent for b in sent] == [1] * days + [0]
    assert sent[-1].skipped_by_quota == 1
    stored = acme.session.scalar(
        select(func.count()).where(
            Message.group_id == group_of_customer(acme.session, buyer.id).id,
            Message.kind == "broadcast",
        )
    )
    assert stored == days


def test_the_chains_quota_applies_when_it_is_set(acme):
    set_quota(acme, 2)
    early = with_group(acme, "Wang Fang", tags=["vip"])
    late = with_group(acme, "Liu Yang")

    with at(MID_NOVEMBER):
        first, second = send(acme, tag="vip"), send(acme, tag="vip")
        third = send(acme, all=True)

    assert [(b.sent, b.skipped_by_quota) for b in (first, second, third)] == [
        (1, 0),
        (1, 0),
        (1, 1),
    ]
    assert reached(acme, third) == {late.id}
    skipped = acme.session.scalars(
        select(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == third.id,
            BroadcastRecipient.message_id.is_(None),
        )
    ).all()
    assert [r.customer_id for r in skipped] == [early.id]
    [message] = broadcast_messages(acme, third)
    assert message.group_id == group_of_customer(acme.session, late.id).id


def test_a_quota_of_zero_sends_nothing(acme):
    set_quota(acme, 0)
    with_group(acme)

    broadcast = send(acme, all=True)

    assert (broadcast.sent, broadcast.skipped_by_quota) == (0, 1)
    assert broadcast_messages(acme, broadcast) == []


def test_skipped_broadcasts_do_not_count_towards_the_quota(acme):
    set_quota(acme, 1)
    with_group(acme)

    with at(MID_NOVEMBER):
        send(acme, all=True)
        assert send(acme, all=True).skipped_by_quota == 1
        set_quota(acme, 2)
        assert send(acme, all=True).sent == 1


def test_a_new_month_resets_the_quota(acme):
    set_quota(acme, 1)
    with_group(acme)

    with at(datetime(2026, 12, 31, 12, 0, tzinfo=UTC)):  # 20:00 in Shanghai
        assert send(acme, all=True).sent == 1
        assert send(acme, all=True).sent == 0
    with at(datetime(2027, 1, 1, 12, 0, tzinfo=UTC)):
        assert send(acme, all=True).sent == 1
    months = acme.session.scalars(select(BroadcastRecipient.month).order_by(BroadcastRecipient.id))
    assert list(months) == ["2026-12", "2026-12", "2027-01"]


@pytest.mark.parametrize(
    ("timezone", "second_sent", "months"),
    [
        # 17:00 UTC on 30 November is already 01:00 on 1 December in Shanghai: a new month.
        ("Asia/Shanghai", 1, ["2026-11", "2026-12"]),
        # In New York it is still noon on 30 November: the same month.
        ("America/New_York", 0, ["2026-11", "2026-11"]),
    ],
)
def test_the_month_is_the_calendar_month_of_the_chains_time_zone(
    acme, timezone, second_sent, months
):
    acme.chain.timezone = timezone
    set_quota(acme, 1)
    with_group(acme)

    with at(datetime(2026, 11, 30, 3, 0, tzinfo=UTC)):  # 30 November everywhere
        assert send(acme, all=True).sent == 1
    with at(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)):
        assert send(acme, all=True).sent == second_sent
    stored = acme.session.scalars(select(BroadcastRecipient.month).order_by(BroadcastRecipient.id))
    assert list(stored) == months


def test_customers_are_counted_one_by_one(acme):
    """One customer at the quota does not hold back the others, however many there are."""
    set_quota(acme, 1)
    buyers = [with_group(acme, f"Customer {n}", tags=["vip"] if n % 2 else []) for n in range(6)]

    with at(MID_NOVEMBER):
        by_tag = send(acme, tag="vip")
        to_all = send(acme, all=True)

    assert (by_tag.sent, by_tag.skipped_by_quota) == (3, 0)
    assert (to_all.sent, to_all.skipped_by_quota) == (3, 3)
    assert reached(acme, to_all) == {b.id for n, b in enumerate(buyers) if n % 2 == 0}


def test_the_number_of_reads_does_not_grow_with_the_audience(acme, connection):
    def reads_of_a_broadcast(**audience) -> int:
        statements = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            send(acme, **audience)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    audiences = {"tag": "vip", "dealer_id": acme.dealer.id, "all": True}
    with_group(acme, "First", tags=["vip"])
    few = {name: reads_of_a_broadcast(**{name: value}) for name, value in audiences.items()}
    for n in range(8):
        with_group(acme, f"Customer {n}", tags=["vip"])
    many = {name: reads_of_a_broadcast(**{name: value}) for name, value in audiences.items()}

    assert many == few


# Bad input


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, {"audience"}),
        ({"all": False}, {"audience"}),
        ({"tag": "vip", "all": True}, {"tag", "all"}),
        ({"tag": "vip", "dealer_id": "dealer"}, {"tag", "dealer_id"}),
        ({"tag": "vip", "dealer_id": "dealer", "all": True}, {"tag", "dealer_id", "all"}),
        ({"tag": "   "}, {"tag"}),
        ({"tag": "x" * 51}, {"tag"}),
        ({"all": True, "text": "   "}, {"text"}),
        ({"all": True, "text": "x" * (MAX_TEXT + 1)}, {"text"}),
        ({"dealer_id": "factory"}, {"dealer_id"}),
        ({"dealer_id": "brand"}, {"dealer_id"}),
        ({"dealer_id": "rivals_dealer"}, {"dealer_id"}),
        ({"dealer_id": "unknown"}, {"dealer_id"}),
    ],
)
def test_bad_input_is_refused_naming_the_fields_and_writes_nothing(acme, rival, changes, fields):
    with_group(acme, tags=["vip"])
    ids = {
        "dealer": acme.dealer.id,
        "factory": acme.factory.id,
        "brand": acme.brand.id,
        "rivals_dealer": rival.dealer.id,
        "unknown": uuid.uuid4(),
    }
    if "dealer_id" in changes:
        changes = {**changes, "dealer_id": ids[changes["dealer_id"]]}
    before = [acme.count(model) for model in (Broadcast, BroadcastRecipient, Message, OutboxEvent)]

    with pytest.raises(Invalid) as refused:
        send(acme, **{"text": "Spring sale", **changes})

    assert set(refused.value.details["fields"]) == fields
    after = [acme.count(model) for model in (Broadcast, BroadcastRecipient, Message, OutboxEvent)]
    assert after == before


def test_another_chains_dealer_is_no_different_from_one_that_never_existed(acme, rival):
    answers = []
    for dealer_id in (rival.dealer.id, uuid.uuid4()):
        with pytest.raises(Invalid) as refused:
            send(acme, dealer_id=dealer_id)
        answers.append((refused.value.message, refused.value.details))
    assert (
        answers[0]
        == answers[1]
        == (
            "dealer_id: No such dealer.",
            {"fields": {"dealer_id": ["No such dealer."]}},
        )
    )


# Two broadcasts at once (PostgreSQL: SQLite serialises writers anyway)


def test_two_broadcasts_at_once_do_not_both_count_a_customer_under_quota(engine, racing):
    # The racing world's session is closed, not gone: it opens a new transaction when used.
    ensure_delivery_group(racing.session, racing.customer())
    update_chain(racing.session, chain_id=racing.id, broadcast_quota=1)
    racing.session.commit()

    def broadcasting(session: Session, text: str):
        return send_broadcast(session, chain_id=racing.id, text=text, all=True)

    with Session(engine) as first, Session(engine) as second:
        winner = broadcasting(first, "First")  # sent, not committed yet
        loser = race(engine, first, second, lambda session: broadcasting(session, "Second"))

        assert (winner.sent, winner.skipped_by_quota) == (1, 0)
        assert (loser.sent, loser.skipped_by_quota) == (0, 1)
