"""When pushes go: bursts coalesced (leading edge), the per-channel rate limit kept by
scheduling, quiet hours for customer-facing channels."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.chain.models import Chain
from service.channels.models import Channel, DeliveryState
from tests.pipeline.conftest import at, later, start_worker, wait_until


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
    assert "生产中" in text and "质检通过" in text
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


def test_a_coalesced_push_goes_within_a_second_of_its_window_end(world, receiver, tmp_path):
    """A real worker with RQ's scheduler (a shorter window, the same code): each message
    that follows a push by a second reaches the receiver at the window's end, not once a
    sweep finds it."""
    window = 3.0
    channel_id = world.add_channel(receiver.url)
    worker = start_worker(world, tmp_path / "worker.log", COALESCE_WINDOW_SECONDS=window)
    try:
        world.report("designed")
        receiver.wait_for(1)
        pushed = None
        for count, milestone in enumerate(["in_production", "quality_checked", "shipped"], 2):
            wait_until(lambda p=pushed: world.channel(channel_id).last_pushed_at not in (None, p))
            pushed = world.channel(channel_id).last_pushed_at
            window_end = pushed.timestamp() + window
            time.sleep(max(0.0, pushed.timestamp() + 1 - time.time()))  # a second after it
            world.report(milestone)
            with receiver.arrived:
                receiver.arrived.wait_for(lambda n=count: len(receiver.requests) >= n, 30)
            assert len(receiver.requests) == count, f"{milestone} never arrived"
            late = receiver.requests[-1].arrived_at - window_end
            assert -0.1 < late <= 1.0, f"{milestone}: {late:+.2f} s after the window's end"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


def test_a_push_the_scheduler_starts_early_is_scheduled_again_not_lost(world, receiver):
    """RQ's scheduler scores jobs by the whole second: a push due at hh:mm:10.9 may start at
    hh:mm:10.0, find the window still open and schedule itself again for 10.9. That new
    schedule must survive the end of the job that made it (RQ deletes finished jobs)."""
    channel_id = world.add_channel(receiver.url)
    world.report("designed")
    world.run_jobs()
    receiver.wait_for(1)
    second = datetime.fromtimestamp(int(time.time()) + 2, UTC)
    with world.session() as session:  # the last push started at hh:mm:ss.9
        session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(last_pushed_at=second - timedelta(seconds=0.1))
        )
        session.commit()
    window_end = second + timedelta(seconds=9.9)
    with at(second - timedelta(seconds=0.05)):
        world.report("in_production")
        world.run_jobs()  # held for the window: scheduled for its end
    with at(window_end - timedelta(seconds=0.85)):
        world.run_jobs()  # the scheduler moves it a whole second early; still held
    assert len(receiver.requests) == 1
    with at(window_end + timedelta(seconds=0.1)):
        world.run_jobs()  # no sweep: the job it scheduled again does it
    assert len(receiver.wait_for(2)) == 2
