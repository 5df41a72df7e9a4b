"""What needs a member's attention: customers waiting (oldest first, with the moment they began
to wait), work items late or about to be, today's and tomorrow's installations in the chain's
time zone, flagged messages of the last week; each within what the reader may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from service.chain.chains import update_chain
from service.errors import Invalid
from service.groups.messages import post_message
from service.orders.orders import set_installation
from service.orders.promises import change_promise
from service.portal import attention as attention_module
from service.portal.access import Reader
from service.portal.attention import attention, attention_count
from service.portal.groups import mark_read
from service.portal.orders import ReadOnly, set_installation_as
from tests.service.customers import chain_world

acme, rival = chain_world.acme, chain_world.rival

# 10:00 in Shanghai (UTC+8) on a Wednesday.
NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def served(acme):
    """At NOW: the owner's customer and the colleague's, and one of the other dealer; each
    with an order and its group."""
    with time_machine.travel(NOW - timedelta(days=20), tick=False):
        mine = acme.customer("Wang Fang")
        theirs = acme.customer("Liu Yang", owner=acme.colleague)
        elsewhere = acme.customer("Zhang San", dealer=acme.other_dealer, owner=acme.their_owner)
        placed = {c.name: acme.order(c) for c in (mine, theirs, elsewhere)}
    acme.session.flush()
    return placed


def _say(acme, group, text, at, sender="customer", member=None):
    with time_machine.travel(at, tick=False):
        [message, *_], _ = post_message(
            acme.session, group=group, text=text, sender=sender,
            sender_member_id=member.id if member else None,
        )  # fmt: skip
    return message


def test_customers_waiting_come_oldest_first_with_when_they_began_to_wait(acme, served):
    _, mine = served["Wang Fang"]
    _, theirs = served["Liu Yang"]
    # Posted in the order they happen, as messages are (their ids are time-ordered).
    _say(acme, theirs, "When is the delivery?", NOW - timedelta(hours=2, minutes=5))
    _say(acme, mine, "Hello?", NOW - timedelta(minutes=30))
    _say(acme, mine, "Anyone?", NOW - timedelta(minutes=10))
    admin = Reader.of(acme.admin)

    waiting = attention(acme.session, admin, NOW).waiting
    assert [(w.group_id, w.count) for w in waiting.rows] == [(theirs.id, 1), (mine.id, 2)]
    assert waiting.rows[0].since == NOW - timedelta(hours=2, minutes=5)
    assert waiting.total == 2


def test_what_the_reader_has_read_no_longer_waits_and_their_colleagues_see_their_own(acme, served):
    _, mine = served["Wang Fang"]
    first = _say(acme, mine, "Hello?", NOW - timedelta(minutes=30))
    _say(acme, mine, "Anyone?", NOW - timedelta(minutes=10))
    owner = Reader.of(acme.owner)
    mark_read(acme.session, owner, mine, first.id)

    [row] = attention(acme.session, owner, NOW).waiting.rows
    assert row.count == 1 and row.since == NOW - timedelta(minutes=10)
    # A member's own answer does not count, nor does another reader's mark.
    _say(acme, mine, "On our way", NOW - timedelta(minutes=5), sender="member", member=acme.owner)
    assert attention(acme.session, owner, NOW).waiting.rows[0].count == 1
    assert attention(acme.session, Reader.of(acme.admin), NOW).waiting.rows[0].count == 2


def test_a_specialist_sees_only_their_groups_and_another_dealer_nothing_of_ours(acme, served):
    for name in ("Wang Fang", "Liu Yang", "Zhang San"):
        _say(acme, served[name][1], f"Hello from {name}", NOW - timedelta(hours=1))
    names = lambda member, **kw: {  # noqa: E731
        w.group_id for w in attention(acme.session, Reader.of(member), NOW, **kw).waiting.rows
    }
    assert names(acme.owner) == {served["Wang Fang"][1].id}
    assert names(acme.colleague) == {served["Liu Yang"][1].id}
    assert names(acme.their_owner) == {served["Zhang San"][1].id}
    assert names(acme.admin) == {served["Wang Fang"][1].id, served["Liu Yang"][1].id}
    assert names(acme.admin, mine=True) == set()  # they sit in none of them
    brand = chain_world.add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Ma Yun", role="admin"
    )
    assert len(names(brand)) == 3  # the brand sees every dealer


def test_work_items_late_or_due_within_a_day_and_not_yet_delivered(acme, served):
    order, _ = served["Wang Fang"]
    panels, frame = order.items
    other, _ = served["Liu Yang"]
    elsewhere, _ = served["Zhang San"]
    panels.eta = NOW - timedelta(days=2)  # late
    frame.eta = NOW + timedelta(hours=20)  # about to be
    other.items[0].eta = NOW + timedelta(hours=25)  # not yet a worry
    other.items[1].eta = NOW + timedelta(hours=3)
    other.items[1].milestone = "delivered"  # with the customer: only fitting is left
    elsewhere.items[0].eta = NOW - timedelta(days=1)  # late, but another dealer's
    acme.session.flush()

    due = attention(acme.session, Reader.of(acme.admin), NOW).due
    assert [(d.item_id, d.late) for d in due.rows] == [(panels.id, True), (frame.id, False)]
    assert due.rows[0].reference == order.reference and due.rows[0].customer == "Wang Fang"
    assert attention(acme.session, Reader.of(acme.colleague), NOW).due.rows == []
    # Late stays late until completed, delivered or not.
    panels.milestone = "delivered"
    acme.session.flush()
    assert attention(acme.session, Reader.of(acme.owner), NOW).due.total == 2
    panels.milestone = "completed"
    acme.session.flush()
    assert attention(acme.session, Reader.of(acme.owner), NOW).due.total == 1


def test_work_items_late_or_due_against_their_promise_until_delivered(acme, served):
    order, _ = served["Wang Fang"]
    panels, frame = order.items
    other, _ = served["Liu Yang"]
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        change_promise(
            acme.session,
            chain_id=acme.id,
            order_id=order.id,
            promised_at=NOW - timedelta(days=1),
            reason="",
        )
        change_promise(
            acme.session,
            chain_id=acme.id,
            order_id=order.id,
            work_item_id=frame.id,
            promised_at=NOW + timedelta(days=5),
            reason="",
        )
        change_promise(acme.session, chain_id=acme.id, order_id=other.id,
                       promised_at=NOW + timedelta(hours=6), reason="")  # fmt: skip
    frame.eta = NOW + timedelta(days=3)  # its own promise still ahead: not a worry yet
    acme.session.flush()

    due = attention(acme.session, Reader.of(acme.admin), NOW).due
    rows = [(d.item_id, d.late, d.promise) for d in due.rows]
    assert rows[0] == (panels.id, True, NOW - timedelta(days=1))  # the order's promise, passed
    assert {r[0] for r in rows[1:]} == {i.id for i in other.items}
    assert not any(r[1] for r in rows[1:])  # due within the day
    # Delivered keeps the promise: no longer late against it (no ETA has passed).
    panels.milestone = "delivered"
    acme.session.flush()
    assert panels.id not in {
        d.item_id for d in attention(acme.session, Reader.of(acme.admin), NOW).due.rows
    }


@pytest.mark.parametrize(
    ("local", "shown"),
    [
        ("2027-03-10T00:00+08:00", "today"),  # today's first minute
        ("2027-03-10T09:00+08:00", "today"),  # earlier today: still today's
        ("2027-03-11T23:59+08:00", "tomorrow"),  # tomorrow's last minute
        ("2027-03-12T00:00+08:00", None),  # the day after
        ("2027-03-09T23:59+08:00", None),  # yesterday
    ],
)
def test_installations_of_today_and_tomorrow_in_the_chains_time_zone(acme, served, local, shown):
    order, _ = served["Wang Fang"]
    set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                     installation_at=datetime.fromisoformat(local), now=NOW)  # fmt: skip
    rows = attention(acme.session, Reader.of(acme.owner), NOW).installations.rows
    assert [("tomorrow" if r.tomorrow else "today") for r in rows] == ([shown] if shown else [])


def test_a_day_is_the_chains_not_utcs(acme, served):
    order, _ = served["Wang Fang"]
    update_chain(acme.session, chain_id=acme.id, timezone="America/New_York")
    # 22:00 on the 9th in New York: NOW is still the 9th there.
    set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                     installation_at=datetime(2027, 3, 10, 3, 0, tzinfo=UTC), now=NOW)  # fmt: skip
    [row] = attention(acme.session, Reader.of(acme.owner), NOW).installations.rows
    assert not row.tomorrow
    # New York springs forward on 14 March 2027: the 13th is still a day away from the 14th.
    later = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
    at = datetime(2027, 3, 15, 3, 30, tzinfo=UTC)
    set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                     installation_at=at, now=later)  # fmt: skip
    [row] = attention(acme.session, Reader.of(acme.owner), later).installations.rows
    assert row.tomorrow  # 23:30 on the 14th, local


def test_an_installed_order_is_no_longer_listed(acme, served):
    order, _ = served["Wang Fang"]
    set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                     installation_at=NOW + timedelta(hours=2), now=NOW)  # fmt: skip
    assert attention(acme.session, Reader.of(acme.owner), NOW).installations.total == 1
    order.milestone = "installed"
    acme.session.flush()
    assert attention(acme.session, Reader.of(acme.owner), NOW).installations.total == 0


def test_flagged_messages_of_the_last_week_newest_first_in_my_groups(acme, served):
    _, mine = served["Wang Fang"]
    _, theirs = served["Liu Yang"]
    old = _say(acme, mine, "old", NOW - timedelta(days=8))
    recent = _say(acme, mine, "recent", NOW - timedelta(days=1))
    newest = _say(acme, theirs, "newest", NOW - timedelta(hours=1))
    plain = _say(acme, mine, "plain", NOW - timedelta(hours=2))
    for message in (old, recent, newest):
        message.flagged, message.flag_reason = True, "contact details"
    acme.session.flush()

    flagged = attention(acme.session, Reader.of(acme.admin), NOW).flagged
    assert [f.message_id for f in flagged.rows] == [newest.id, recent.id]
    assert flagged.rows[0].reason == "contact details"
    assert plain.id not in {f.message_id for f in flagged.rows}
    owners = attention(acme.session, Reader.of(acme.owner), NOW).flagged.rows
    assert [f.message_id for f in owners] == [recent.id]
    assert attention(acme.session, Reader.of(acme.their_owner), NOW).flagged.total == 0


def test_the_count_is_every_sections_total_and_lists_are_capped(acme, served, monkeypatch):
    order, group = served["Wang Fang"]
    _say(acme, group, "Hello?", NOW - timedelta(minutes=3))
    order.items[0].eta = NOW - timedelta(days=1)
    order.items[1].eta = NOW - timedelta(hours=1)
    set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                     installation_at=NOW + timedelta(hours=2), now=NOW)  # fmt: skip
    owner = Reader.of(acme.owner)
    assert attention_count(acme.session, owner, NOW) == 1 + 2 + 1
    monkeypatch.setattr(attention_module, "CAP", 1)
    found = attention(acme.session, owner, NOW)
    assert found.total == 4 and len(found.due.rows) == 1 and found.due.more == 1


def test_a_rival_chains_reader_sees_none_of_it(acme, rival, served):
    _, group = served["Wang Fang"]
    _say(acme, group, "Hello?", NOW - timedelta(minutes=3))
    stranger = Reader.of(rival.admin)
    assert attention_count(acme.session, stranger, NOW) == 0
    assert attention(acme.session, stranger, NOW).total == 0


def test_an_installation_is_booked_by_who_may_write_and_plausible_dates_only(acme, served):
    order, _ = served["Wang Fang"]
    at = NOW + timedelta(days=1)
    set_installation_as(acme.session, Reader.of(acme.owner), order.id, at, now=NOW)
    assert order.installation_at == at
    set_installation_as(acme.session, Reader.of(acme.admin), order.id, None, now=NOW)
    assert order.installation_at is None
    brand = chain_world.add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Ma Yun", role="admin"
    )
    with pytest.raises(ReadOnly):
        set_installation_as(acme.session, Reader.of(brand), order.id, at, now=NOW)
    for wrong in (NOW + timedelta(days=800), order.created_at - timedelta(minutes=1)):
        with pytest.raises(Invalid) as refused:
            set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                             installation_at=wrong, now=NOW)  # fmt: skip
        assert "installation_at" in refused.value.details["fields"]
    with pytest.raises(Invalid):
        set_installation(acme.session, chain_id=acme.id, order_id=order.id,
                         installation_at=datetime(2027, 3, 11, 9, 0), now=NOW)  # fmt: skip
