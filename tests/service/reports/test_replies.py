"""The reply figures' definitions on groups worked out by hand (Asia/Shanghai, business hours
09:00-21:00)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.reports.business_time import BusinessHours
from service.reports.replies import CUSTOMER, DEALER, OTHER, Measured, Said, Wait, measure, waits

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = BusinessHours.of("Asia/Shanghai")
MINUTE = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_a_message_answered_across_the_night():
    group = [Said(at(4, 20, 55), CUSTOMER), Said(at(5, 9, 2), DEALER)]
    figures = measure(waits(group), HOURS, now=at(6, 12))
    assert figures.first_response_times == [Measured(timedelta(hours=12, minutes=7), 7 * MINUTE)]
    assert figures.reply_times == figures.first_response_times
    assert figures.answered_same_day == 0  # answered the next morning
    assert (figures.unanswered_now, figures.longest_wait) == (0, None)


def test_auto_replies_and_the_systems_messages_are_no_reply():
    group = [
        Said(at(4, 10), CUSTOMER),
        Said(at(4, 10), OTHER),  # the auto-reply, at once
        Said(at(4, 10, 5), OTHER),  # a progress notification
        Said(at(4, 10, 30), DEALER),
    ]
    figures = measure(waits(group), HOURS, now=at(4, 12))
    assert figures.first_response_times == [Measured(30 * MINUTE, 30 * MINUTE)]
    assert figures.answered_same_day == 1


def test_every_message_before_a_reply_waits_for_it_and_only_the_first_is_a_first_response():
    group = [
        Said(at(4, 10), CUSTOMER),
        Said(at(4, 10, 20), CUSTOMER),
        Said(at(4, 10, 30), DEALER),
        Said(at(4, 10, 31), DEALER),  # a second reply answers nothing more
        Said(at(4, 11), CUSTOMER),
        Said(at(4, 11, 10), DEALER),
    ]
    found = waits(group)
    assert found == [
        Wait(at(4, 10), at(4, 10, 30), True),
        Wait(at(4, 10, 20), at(4, 10, 30), False),
        Wait(at(4, 11), at(4, 11, 10), True),
    ]
    figures = measure(found, HOURS, now=at(4, 12))
    assert [m.wall for m in figures.reply_times] == [30 * MINUTE, 10 * MINUTE, 10 * MINUTE]
    assert [m.wall for m in figures.first_response_times] == [30 * MINUTE, 10 * MINUTE]


def test_a_message_still_unanswered_waits_until_now():
    group = [Said(at(4, 8), DEALER), Said(at(4, 20), CUSTOMER), Said(at(4, 20, 30), CUSTOMER)]
    figures = measure(waits(group), HOURS, now=at(5, 9, 30))
    assert (figures.unanswered_now, figures.customer_messages) == (2, 2)
    # Since 20:00: 13 h 30 min on the clock, 1 h 30 min of business time (20-21, 9-9:30).
    assert figures.longest_wait == Measured(timedelta(hours=13, minutes=30), 90 * MINUTE)
    assert figures.reply_times == [] and figures.first_response_times == []


def test_a_group_where_the_customer_never_wrote_has_no_figures():
    figures = measure(waits([Said(at(4, 9), OTHER), Said(at(4, 10), DEALER)]), HOURS, at(5, 9))
    assert (figures.customer_messages, figures.reply_times, figures.longest_wait) == (0, [], None)
