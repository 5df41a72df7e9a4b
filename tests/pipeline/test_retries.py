"""Failing receivers: retried with backoff, Retry-After honoured, 410 disables, a day of
failures pauses the channel and says so in the group. Every attempt is in the log."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import select

from service.channels.models import ChannelState, DeliveryState
from service.groups.models import Message
from tests.pipeline.conftest import Answer, later

WECOM_OK = b'{"errcode":0,"errmsg":"ok"}'


def test_a_500_is_retried_after_the_backoff_and_then_delivered(world, receiver):
    channel_id = world.add_channel(receiver.url)
    receiver.answers.append(Answer(500, b"upstream broke"))
    world.report("in_production")
    world.run_jobs()

    [delivery] = world.deliveries(channel_id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    wait = delivery.due_at - world.attempts(channel_id)[0].started_at
    assert timedelta(seconds=4) <= wait <= timedelta(seconds=10)  # 5 s ± jitter, or the window
    assert world.pipeline.queue.scheduled_job_registry.count >= 1  # RQ's scheduler will run it
    assert world.channel(channel_id).failing_since is not None

    with later(30):
        world.sweep_and_run()

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.DELIVERED
    log = [(a.outcome, a.status_code, a.response_excerpt) for a in world.attempts(channel_id)]
    assert log == [("retry", 500, "upstream broke"), ("delivered", 200, WECOM_OK.decode())]
    assert world.channel(channel_id).failing_since is None


def test_429_waits_as_long_as_retry_after_says_without_counting_a_failure(world, receiver):
    channel_id = world.add_channel(receiver.url)
    receiver.answers.append(Answer(429, b"slow down", {"Retry-After": "120"}))
    world.report("in_production")
    world.run_jobs()

    [delivery] = world.deliveries(channel_id)
    started = world.attempts(channel_id)[0].started_at
    assert delivery.attempts == 0
    assert timedelta(seconds=119) <= delivery.due_at - started <= timedelta(seconds=122)

    with later(60):
        world.sweep_and_run()
    assert len(receiver.requests) == 1  # not yet
    with later(130):
        world.sweep_and_run()
    assert len(receiver.wait_for(2)) == 2
    assert world.deliveries(channel_id)[0].state == DeliveryState.DELIVERED


def test_a_robot_answering_200_with_a_rate_limit_errcode_is_waited_for(world, receiver):
    channel_id = world.add_channel(receiver.url, type="wecom_robot")
    receiver.answers.append(Answer(200, b'{"errcode":45009,"errmsg":"api freq out of limit"}'))
    world.report("in_production")
    world.run_jobs()

    [attempt] = world.attempts(channel_id)
    assert attempt.outcome == "rate_limited"
    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.PENDING
    with later(90):
        world.sweep_and_run()
    assert world.deliveries(channel_id)[0].state == DeliveryState.DELIVERED


def test_a_receiver_that_does_not_answer_in_time_is_retried(world, receiver):
    channel_id = world.add_channel(receiver.url)  # the test app's timeout is 1 s
    stuck = threading.Event()
    receiver.answers.append(Answer(hold=stuck))  # answers after 10 s, or at the test's end
    try:
        world.report("in_production")
        world.run_jobs()
    finally:
        stuck.set()

    [attempt] = world.attempts(channel_id)
    assert attempt.outcome == "timeout"
    assert 900 <= attempt.latency_ms < 5000
    with later(30):
        world.sweep_and_run()
    assert world.deliveries(channel_id)[0].state == DeliveryState.DELIVERED
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_410_disables_the_channel_and_gives_up_what_it_owed(world, receiver):
    channel_id = world.add_channel(receiver.url)
    receiver.answers.append(Answer(410, b"this hook was deleted"))
    world.report("in_production")
    world.run_jobs()
    world.report("shipped")
    world.run_jobs()

    channel = world.channel(channel_id)
    assert channel.state == ChannelState.DISABLED
    assert [d.state for d in world.deliveries(channel_id)] == [DeliveryState.FAILED]
    assert len(receiver.requests) == 1


def test_a_redirect_is_a_failure_not_followed(world, receiver):
    channel_id = world.add_channel(receiver.url)
    receiver.answers.append(Answer(302, b"", {"Location": "http://169.254.169.254/"}))
    world.report("in_production")
    world.run_jobs()

    [attempt] = world.attempts(channel_id)
    assert (attempt.outcome, attempt.status_code) == ("retry", 302)
    assert len(receiver.requests) == 1


def test_a_channel_failing_for_a_day_is_paused_and_the_group_told(world, receiver):
    channel_id = world.add_channel(receiver.url, name="Ops robot")
    receiver.default = Answer(503, b"down")
    world.report("in_production")
    world.run_jobs()
    # Tries at about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (± 20 %) after each failure: the 7th,
    # 34 h on, finds it failing for more than a day.
    for hours in (1, 3, 6, 12, 20, 34):
        with later(hours * 3600):
            world.sweep_and_run()

    channel = world.channel(channel_id)
    assert channel.state == ChannelState.PAUSED
    with world.session() as session:
        notice = session.scalars(
            select(Message).where(Message.group_id == world.group_id, Message.kind == "notice")
        ).one()
    assert "Ops robot" in notice.text and "已暂停" in notice.text
    tried = len(receiver.requests)
    with later(45 * 3600):
        world.sweep_and_run()
    assert len(receiver.requests) == tried  # paused: no more tries

    # Resumed, it sends what it held: nothing was lost while it was paused.
    receiver.default = Answer(200, b"ok")
    response = world.app.test_client().patch(
        f"/api/v1/channels/{channel_id}",
        json={"state": "active"},
        headers={"Authorization": f"Bearer {_api_key(world)}"},
    )
    assert response.status_code == 200, response.get_json()
    with later(45 * 3600 + 60):
        world.run_jobs()
    delivered = [d for d in world.deliveries(channel_id) if d.state == DeliveryState.DELIVERED]
    assert len(delivered) == 1
    texts = [json.loads(r.body)["data"]["message"]["kind"] for r in receiver.requests[tried:]]
    assert texts == ["notification"]


def _api_key(world) -> str:
    from service.chain.chains import issue_api_key

    with world.session() as session:
        _, key = issue_api_key(session, chain_id=world.chain_id, name="test")
        session.commit()
    return key
