"""A progress report's dates: in UTC's years 1-9999, `occurred_at` not more than a day
ahead nor before the work item existed, `eta` not before `occurred_at`. Otherwise a 422
naming the field (in a batch, the event too), and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.blueprints.factory_webhooks import test_progress_webhook as webhooks
from tests.blueprints.factory_webhooks.test_progress_webhook import counts, milestone_of, post

# The webhook tests' fixture: a chain with a factory, its signing secret and work item "FS-77".
factory = webhooks.factory


def dated(dates: dict) -> dict:
    """Dates given as hours from now (numbers) made ISO 8601, at the time of the request."""
    now = datetime.now(UTC)
    return {
        name: (now + timedelta(hours=value)).isoformat() if isinstance(value, float) else value
        for name, value in dates.items()
    }


# (the event's dates, the field refused)
IMPLAUSIBLE = {
    "occurred_at_after_9999_in_utc": ({"occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
    "occurred_at_before_year_1_in_utc": (
        {"occurred_at": "0001-01-01T00:00:00+14:00"},
        "occurred_at",
    ),
    "eta_after_9999_in_utc": ({"eta": "9999-12-31T23:59:59-14:00"}, "eta"),
    "eta_before_year_1_in_utc": ({"eta": "0001-01-01T00:00:00+14:00"}, "eta"),
    "occurred_at_over_a_day_ahead": ({"occurred_at": 25.0}, "occurred_at"),
    "occurred_at_before_the_work_item": (
        {"occurred_at": "2020-01-01T08:00:00+08:00"},
        "occurred_at",
    ),
    "eta_before_occurred_at": ({"occurred_at": 0.0, "eta": -1.0}, "eta"),
    "eta_in_the_past_without_occurred_at": ({"eta": -2.0}, "eta"),
}


@pytest.mark.parametrize(("dates", "field"), IMPLAUSIBLE.values(), ids=IMPLAUSIBLE)
def test_an_implausible_date_is_a_422_naming_it_and_stores_nothing(
    client,
    session,
    factory,
    dates,
    field,
):
    before = counts(session)
    response = post(client, factory, {"work_item": "FS-77", "milestone": "shipped", **dated(dates)})
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["details"]["fields"]) == [field]
    assert counts(session) == before
    assert milestone_of(session, factory.frame_id) == "received"


PLAUSIBLE = {
    "occurred_at_within_a_day_ahead": {"occurred_at": 23.0},
    "occurred_at_a_minute_before_creation_by_a_slow_clock": {"occurred_at": -1 / 60},
    "eta_at_occurred_at": {"occurred_at": 1.0, "eta": 1.0},
    "the_last_second_of_9999_in_utc": {"eta": "9999-12-31T09:59:59-14:00"},
}


@pytest.mark.parametrize("dates", PLAUSIBLE.values(), ids=PLAUSIBLE)
def test_plausible_dates_are_accepted(client, session, factory, dates):
    response = post(client, factory, {"work_item": "FS-77", "milestone": "shipped", **dated(dates)})
    assert response.status_code == 202, response.get_json()
    assert milestone_of(session, factory.frame_id) == "shipped"


def test_in_a_batch_the_422_names_each_event_and_field(client, session, factory):
    before = counts(session)
    events = [
        {"work_item": "FS-77", "milestone": "designed"},
        {"work_item": "FS-77", "milestone": "in_production", **dated({"occurred_at": 30.0})},
        {"work_item": "FS-77", "milestone": "shipped", **dated({"occurred_at": 1.0, "eta": 0.5})},
    ]
    response = post(client, factory, {"events": events})
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["details"]["fields"]) == {
        "events[1].occurred_at",
        "events[2].eta",
    }
    assert counts(session) == before
    assert milestone_of(session, factory.frame_id) == "received"
