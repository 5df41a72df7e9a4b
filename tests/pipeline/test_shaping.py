"""When pushes go: bursts coalesced (leading edge), the per-channel rate limit kept by
scheduling, quiet hours for customer-facing channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.chain.models import Chain
from service.channels.models import DeliveryState
from tests.pipeline.conftest import at, later


def test_a_burst_goes_out_as_the_first_event_then_one_push_at_the_window_end(world, receiver):
    channel_id = world.add_channel(receiver.url, type="wecom_robot")
    world.report("designed")
    world.run_jobs()
    assert len(receiver.wait_for(1)) == 1  # the leading edge: at once

    world.report("in_production")
    world.report("quality_checked")
    world.run_jobs()
    assert len(receiver.requests) == 1  # held for the window
    assert world.pipeline.queue.scheduled_job_registry.count >= 1

    with later(11):
        world.sweep_and_run()
    _, second = receiver.wait_for(2)
    text = second.json["markdown"]["content"]
    assert "in production" in text and "quality checked" in text
    attempts = world.attempts(channel_id)
    assert len({a.push_id for a in attempts}) == 2  # three deliveries, two pushes
    assert all(d.state == DeliveryState.DELIVERED for d in world.deliveries(channel_id))


@pytest.mark.pipeline_config(coalesce_window_seconds=0)
def test_the_rate_limit_holds_pushes_until_the_minute_has_room(world, receiver):
    channel_id = world.add_channel(receiver.url, rate_limit_per_minute=2)
    for milestone in ("designed", "in_production", "quality_checked"):
        world.report(milestone)
        world.run_jobs()
    assert len(receiver.requests) == 2
    [held] = [d for d in world.deliveries(channel_id) if d.state == DeliveryState.PENDING]
    first = world.attempts(channel_id)[0].started_at
    assert held.due_at == first + timedelta(minutes=1)  # scheduled, not failed
    assert held.attempts == 0

    with later(61):
        world.sweep_and_run()
    assert len(receiver.wait_for(3)) == 3


def _chain_quiet_hours(world, start, end):
    with world.session() as session:
        session.execute(
            update(Chain)
            .where(Chain.id == world.chain_id)
            .values(quiet_hours_start=start, quiet_hours_end=end, timezone="Asia/Shanghai")
        )
        session.commit()


def test_quiet_hours_hold_customer_facing_pushes_until_morning(world, receiver):
    _chain_quiet_hours(world, "22:00", "08:00")
    facing = world.add_channel(receiver.url, customer_facing=True)
    internal = world.add_channel(receiver.url + "?internal", customer_facing=False)
    night = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai

    with at(night):
        world.report("shipped")
        world.run_jobs()
    assert [r.path for r in receiver.wait_for(1)] == ["/hook?internal"]
    [held] = world.deliveries(facing)
    assert held.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

    with at(night + timedelta(hours=4)):  # 03:30: still quiet; the sweeper leaves it
        world.sweep_and_run()
    assert len(receiver.requests) == 1

    with at(datetime(2026, 11, 24, 0, 0, 30, tzinfo=UTC)):
        world.sweep_and_run()
    assert receiver.wait_for(2)[1].path == "/hook"
    assert world.deliveries(internal)[0].state == DeliveryState.DELIVERED


def test_no_quiet_hours_when_the_chain_has_none(world, receiver):
    _chain_quiet_hours(world, None, None)
    world.add_channel(receiver.url, customer_facing=True)
    with at(datetime(2026, 11, 23, 15, 30, tzinfo=UTC)):
        world.report("shipped")
        world.run_jobs()
    assert len(receiver.wait_for(1)) == 1
