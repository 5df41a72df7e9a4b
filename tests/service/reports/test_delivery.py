"""The delivery report on a small world worked out by hand: each factory's stages (count,
median, p90, max), promises kept, items late now, late reports; the period in the chain's time
zone; the same figures before and after the daily rollup; a dealer's own; another chain's
nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from service.errors import Invalid
from service.orders.promises import change_promise
from service.progress.models import StageSpan
from service.progress.recording import record_progress
from service.progress.reports import factory_actor
from service.reports.delivery import delivery_report
from service.reports.periods import Period, next_month
from service.reports.rollup import roll_up
from tests.service.customers import chain_world

acme, rival = chain_world.acme, chain_world.rival

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOW = T0 + timedelta(days=20)
HOUR, DAY = 3600, 86400
MARCH = {"start": date(2027, 3, 1), "end": date(2027, 3, 31), "now": NOW}


def _reach(session, item, milestone, at, actor="api"):
    with time_machine.travel(at, tick=False):
        return record_progress(session, work_item=item, milestone=milestone, actor=actor)


@pytest.fixture
def history(acme):
    """SO-1 (our dealer), promised for T0 + 10 days: its panels there in 6 days, its frame
    in 12. SO-2 (the other dealer), promised for T0 + 3 days: its panels designed, its frame
    not begun. One late report of the panels' design from their factory, one through the API."""
    s = acme.session
    with time_machine.travel(T0, tick=False):
        first, _ = acme.order(acme.customer("Wang Fang"), reference="SO-1")
        other = acme.customer("Zhang San", dealer=acme.other_dealer, owner=acme.their_owner)
        second, _ = acme.order(other, reference="SO-2")
        for order, days in ((first, 10), (second, 3)):
            change_promise(s, chain_id=acme.id, order_id=order.id,
                           promised_at=T0 + timedelta(days=days), reason="")  # fmt: skip
    panels, frame = first.items
    _reach(s, panels, "designed", T0 + timedelta(hours=2))
    _reach(s, frame, "designed", T0 + timedelta(hours=4))
    _reach(s, second.items[0], "designed", T0 + timedelta(hours=6))
    _reach(s, panels, "in_production", T0 + timedelta(days=1, hours=2))
    # Late (changes nothing), from the factory; one from the brand's API is not the factory's.
    factory = factory_actor(acme.factory.id)
    _reach(s, panels, "designed", T0 + timedelta(days=1, hours=3), actor=factory)
    _reach(s, panels, "received", T0 + timedelta(days=1, hours=4))
    _reach(s, panels, "shipped", T0 + timedelta(days=4))
    _reach(s, panels, "delivered", T0 + timedelta(days=6))
    _reach(s, frame, "delivered", T0 + timedelta(days=12))
    s.flush()
    return first, second


def _figures(report):
    stages = {
        (s.factory_id, s.from_milestone, s.to_milestone): (
            s.count, s.median_seconds, s.p90_seconds, s.max_seconds
        )
        for s in report.stages
    }  # fmt: skip
    factories = {
        f.factory_id: (f.promised, f.kept, f.on_time_rate, f.late_now, f.late_events)
        for f in report.factories
    }
    return stages, factories


def _close(seconds: int) -> range:
    """The values within 1 % of `seconds` (the histogram's accuracy)."""
    return range(int(seconds * 0.99), int(seconds * 1.01) + 1)


def test_each_factorys_stages_and_promises_worked_out_by_hand(acme, history):
    stages, factories = _figures(delivery_report(acme.session, acme.id, **MARCH))
    panels, frames = acme.factory.id, acme.other_factory.id

    count, median, p90, longest = stages[(panels, "received", "designed")]
    # 2 h (SO-1) and 6 h (SO-2): the median of two is the first, p90 the second.
    assert count == 2 and median in _close(2 * HOUR) and p90 in _close(6 * HOUR)
    assert longest == 6 * HOUR  # exact
    assert stages[(panels, "designed", "in_production")][0:1] == (1,)
    assert stages[(panels, "designed", "in_production")][3] == DAY
    assert stages[(panels, "in_production", "shipped")][3] == 2 * DAY + 22 * HOUR
    assert stages[(panels, "shipped", "delivered")][3] == 2 * DAY
    assert stages[(frames, "designed", "delivered")][3] == 12 * DAY - 4 * HOUR
    assert set(stages) == {
        (panels, "received", "designed"), (panels, "designed", "in_production"),
        (panels, "in_production", "shipped"), (panels, "shipped", "delivered"),
        (frames, "received", "designed"), (frames, "designed", "delivered"),
    }  # fmt: skip

    # Panels: kept (day 6 of 10), SO-2's still at the factory past day 3, one late report.
    assert factories[panels] == (1, 1, 1.0, 1, 1)
    # Frames: missed (day 12 of 10); SO-2's frame late too.
    assert factories[frames] == (1, 0, 0.0, 1, 0)
    assert [f.name for f in delivery_report(acme.session, acme.id, **MARCH).factories] == [
        "Frame Works", "Panel Works"
    ]  # fmt: skip


def test_the_same_figures_before_during_and_after_the_rollup(acme, history):
    before = _figures(delivery_report(acme.session, acme.id, **MARCH))
    assert roll_up(acme.session, batch=3) == 3  # some rolled up, some not
    assert _figures(delivery_report(acme.session, acme.id, **MARCH)) == before
    assert roll_up(acme.session) == acme.count(StageSpan) - 3
    assert roll_up(acme.session) == 0  # each span once
    assert _figures(delivery_report(acme.session, acme.id, **MARCH)) == before
    # A step after the rollup is counted too.
    first, _ = history
    _reach(acme.session, first.items[0], "installed", T0 + timedelta(days=7))
    stages, _ = _figures(delivery_report(acme.session, acme.id, **MARCH))
    assert stages[(acme.factory.id, "delivered", "installed")][0] == 1


def test_a_stage_belongs_to_the_day_it_ended_in_the_chains_time_zone(acme, history):
    first, _ = history
    # 23:30 on the 7th in Shanghai, 15:30 in UTC; and 00:30 on the 8th, still the 7th in UTC.
    _reach(acme.session, first.items[0], "installed", datetime(2027, 3, 7, 15, 30, tzinfo=UTC))
    _reach(acme.session, first.items[1], "installed", datetime(2027, 3, 7, 16, 30, tzinfo=UTC))
    roll_up(acme.session)
    days = {"start": date(2027, 3, 7), "end": date(2027, 3, 7), "now": NOW}
    stages, _ = _figures(delivery_report(acme.session, acme.id, **days))
    assert {key[0] for key in stages if key[2] == "installed"} == {acme.factory.id}
    days = {"start": date(2027, 3, 8), "end": date(2027, 3, 8), "now": NOW}
    stages, _ = _figures(delivery_report(acme.session, acme.id, **days))
    assert {key[0] for key in stages if key[2] == "installed"} == {acme.other_factory.id}


def test_a_dealer_sees_its_own_orders_and_one_factory_its_own(acme, history):
    roll_up(acme.session)
    stages, factories = _figures(
        delivery_report(acme.session, acme.id, dealer_id=acme.dealer.id, **MARCH)
    )
    assert stages[(acme.factory.id, "received", "designed")][0] == 1  # SO-1's alone
    assert factories[acme.factory.id] == (1, 1, 1.0, 0, 1)  # SO-2's lateness is not theirs
    stages, factories = _figures(
        delivery_report(acme.session, acme.id, factory_id=acme.other_factory.id, **MARCH)
    )
    assert {key[0] for key in stages} == {acme.other_factory.id} and set(factories) == {
        acme.other_factory.id
    }


def test_another_chain_sees_nothing_of_ours_and_may_not_name_our_factory(acme, rival, history):
    roll_up(acme.session)
    report = delivery_report(acme.session, rival.id, **MARCH)
    assert report.stages == [] and report.factories == []
    with pytest.raises(Invalid) as refused:
        delivery_report(acme.session, rival.id, factory_id=acme.factory.id, **MARCH)
    assert set(refused.value.details["fields"]) == {"factory_id"}


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2027, 3, 2), date(2027, 3, 1), "from"),  # backwards
        (date(2026, 1, 1), date(2027, 3, 1), "from"),  # over a year
    ],
)
def test_an_impossible_period_is_refused_naming_the_field(acme, start, end, field):
    with pytest.raises(Invalid) as refused:
        delivery_report(acme.session, acme.id, start=start, end=end, now=NOW)
    assert set(refused.value.details["fields"]) == {field}


def test_a_dealer_named_as_a_factory_is_refused(acme):
    with pytest.raises(Invalid) as refused:
        delivery_report(acme.session, acme.id, factory_id=acme.dealer.id, now=NOW)
    assert set(refused.value.details["fields"]) == {"factory_id"}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@settings(deadline=None)
@given(st.dates(date(2024, 1, 1), date(2028, 12, 31)), st.integers(0, 365))
def test_whole_months_and_the_other_days_cover_each_day_of_a_period_once(start, length):
    period = Period(start, start + timedelta(days=length), ZoneInfo("Asia/Shanghai"))
    months = period.months()
    if months is None:
        covered = _days(period.start, period.end)
    else:
        first, last = months
        month_days = _days(first, next_month(last) - timedelta(days=1))
        covered = (
            _days(period.start, first - timedelta(days=1))
            + month_days
            + _days(next_month(last), period.end)
        )
    assert covered == _days(period.start, period.end)
    # Every month wholly within the period is read as a month.
    for day in _days(period.start, period.end):
        if day.day == 1 and next_month(day) - timedelta(days=1) <= period.end:
            assert months is not None and months[0] <= day <= months[1]
