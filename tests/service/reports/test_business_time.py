"""Business time, worked out by hand: a night, a weekend (every day is a business day), a
clock change, and the properties any span must keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from service.chain.chains import create_chain, update_chain
from service.reports.business_time import BusinessHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = BusinessHours.of("Asia/Shanghai")  # 09:00-21:00, the default
MINUTE = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0, zone=SHANGHAI) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def test_a_message_answered_across_the_night_waited_seven_minutes_of_business_time():
    asked, answered = at(4, 20, 55), at(5, 9, 2)
    assert HOURS.between(asked, answered) == MINUTE * 7  # 20:55-21:00 and 09:00-09:02
    assert (answered - asked) == timedelta(hours=12, minutes=7)  # wall-clock


def test_a_message_written_at_night_waits_from_the_opening():
    assert HOURS.between(at(4, 23, 30), at(5, 9, 7)) == MINUTE * 7
    assert HOURS.between(at(4, 23, 30), at(5, 8, 59)) == timedelta(0)


def test_within_the_day_business_time_is_the_wall_clock():
    assert HOURS.between(at(4, 10), at(4, 10, 45)) == MINUTE * 45


def test_whole_days_count_their_twelve_hours_each():
    assert HOURS.between(at(4, 9), at(7, 9)) == timedelta(hours=36)


def test_the_moment_is_read_in_the_chains_zone_whatever_zone_it_comes_in():
    asked = at(4, 20, 55).astimezone(UTC)  # 12:55 UTC
    answered = at(5, 9, 2).astimezone(ZoneInfo("America/New_York"))
    assert HOURS.between(asked, answered) == MINUTE * 7


def test_a_day_with_a_clock_change_is_as_long_as_it_is():
    berlin = BusinessHours.of("Europe/Berlin", "00:00", "23:59")
    zone = ZoneInfo("Europe/Berlin")
    # 29 March 2026: clocks go from 02:00 to 03:00, so 00:00-12:00 local is 11 hours.
    start = datetime(2026, 3, 29, 0, 0, tzinfo=zone)
    end = datetime(2026, 3, 29, 12, 0, tzinfo=zone)
    assert berlin.between(start, end) == timedelta(hours=11)


def test_an_end_before_the_start_is_no_time():
    assert HOURS.between(at(5, 10), at(4, 10)) == timedelta(0)


def test_is_open():
    assert HOURS.is_open(at(4, 9)) and HOURS.is_open(at(4, 20, 59))
    assert not HOURS.is_open(at(4, 21)) and not HOURS.is_open(at(4, 3))


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))


@settings(deadline=None)
@given(moments, spans, spans)
def test_business_time_adds_up_and_never_exceeds_the_wall_clock(start, first, second):
    middle, end = start + first, start + first + second
    whole = HOURS.between(start, end)
    assert whole == HOURS.between(start, middle) + HOURS.between(middle, end)
    assert timedelta(0) <= whole <= end - start


def test_a_chains_hours_are_its_setting(session):
    chain, *_ = create_chain(session, name="Acme Home")
    assert BusinessHours.of_chain(chain) == HOURS  # the defaults
    update_chain(session, chain_id=chain.id, business_hours={"start": "10:00", "end": "18:30"})
    hours = BusinessHours.of_chain(chain)
    assert hours.between(at(4, 18), at(5, 10, 30)) == MINUTE * 60


def _walked(hours: BusinessHours, start: datetime, end: datetime) -> timedelta:
    """Business time day by day: what between() must give, however it counts."""
    total, day = timedelta(0), start.astimezone(hours.zone).date()
    while day <= end.astimezone(hours.zone).date():
        # In UTC: aware datetimes of one zone subtract as wall-clock times.
        opens = datetime.combine(day, hours.opens, tzinfo=hours.zone).astimezone(UTC)
        closes = datetime.combine(day, hours.closes, tzinfo=hours.zone).astimezone(UTC)
        total += max(timedelta(0), min(end, closes) - max(start, opens))
        day += timedelta(days=1)
    return total


LONG = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800))
ZONES = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York",
                         "Australia/Lord_Howe"])  # fmt: skip


@settings(deadline=None)
@given(moments, LONG, ZONES, st.sampled_from([("09:00", "21:00"), ("00:00", "23:59")]))
def test_long_waits_across_years_and_clock_changes_are_each_days_hours(start, span, zone, hours):
    business = BusinessHours.of(zone, *hours)
    assert business.between(start, start + span) == _walked(business, start, start + span)
