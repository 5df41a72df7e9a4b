"""A progress event reaches each channel once: through duplicates, racing workers, a worker
killed mid-push, a Redis restart, a crash between commit and enqueue."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from jobs.pipeline import drain
from service.app import create_app
from service.channels.models import Channel, DeliveryState
from service.redis_server import redis_binary, wait_until_answering
from tests.pipeline.conftest import Answer, later, make_world, start_worker


def ids(requests):
    return [r.headers["webhook-id"] for r in requests]


def test_a_progress_event_is_pushed_signed_within_one_worker_run(world, receiver):
    channel_id = world.add_channel(receiver.url)
    with world.session() as session:
        secret = session.get(Channel, channel_id).secret

    world.report("in_production", note="Frame glued")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "message.posted"
    assert payload["data"]["message"]["payload"]["milestone"] == "in_production"
    assert "Frame glued" in payload["data"]["message"]["text"]
    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.DELIVERED
    [attempt] = world.attempts(channel_id)
    assert (attempt.outcome, attempt.status_code) == ("delivered", 200)
    assert attempt.latency_ms is not None


def test_the_same_event_twice_is_pushed_once(world, receiver):
    world.add_channel(receiver.url)
    world.report("in_production", webhook_id="evt-1")
    world.report("in_production", webhook_id="evt-1")  # the factory retried
    world.report("in_production", webhook_id="evt-2")  # a new id, same milestone: late
    world.run_jobs()
    world.sweep_and_run()

    assert len(receiver.wait_for(1)) == 1


def test_a_drain_run_twice_plans_once(world, receiver):
    channel_id = world.add_channel(receiver.url)
    world.report("in_production")
    with world.app.app_context():
        drain()
        drain()
    world.run_jobs()  # and the job the commit enqueued

    assert len(receiver.wait_for(1)) == 1
    assert len(world.deliveries(channel_id)) == 1


def test_two_workers_racing_for_one_message_push_once(world, receiver):
    world.add_channel(receiver.url)
    world.report("in_production")
    start = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with world.app.app_context():
                start.wait()
                drain()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.run_jobs()

    assert not errors
    assert len(receiver.wait_for(1)) == 1


def _worker_process(world, tmp_path):
    return start_worker(world, tmp_path / "worker.log")


def test_a_worker_killed_mid_push_is_followed_by_one_more_push_with_the_same_id(
    world, receiver, tmp_path
):
    channel_id = world.add_channel(receiver.url)
    held = Answer(hold=threading.Event())
    receiver.answers.append(held)
    world.report("in_production")

    process = _worker_process(world, tmp_path)
    try:
        [first] = receiver.wait_for(1)  # the worker is now waiting for the answer
        os.killpg(process.pid, signal.SIGKILL)  # the worker and RQ's scheduler beside it
        process.wait(10)
    finally:
        held.hold.set()
        if process.poll() is None:
            process.kill()
    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.SENDING  # cut off: nobody knows if it arrived

    with later(60):  # the killed worker's lease has run out
        world.sweep_and_run()

    requests = receiver.wait_for(2)
    assert len(requests) == 2
    assert ids(requests) == [first.headers["webhook-id"]] * 2  # the receiver can deduplicate
    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.DELIVERED
    with later(120):
        world.sweep_and_run()
    assert len(receiver.requests) == 2


def test_jobs_lost_in_a_redis_restart_are_found_by_the_sweeper(config, engine, tmp_path, receiver):
    # A Redis of our own, without persistence, restarted with the job still queued.
    socket = tmp_path / "redis.sock"
    command = [str(redis_binary()), "--port", "0", "--unixsocket", str(socket),
               "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        _wait_for_socket(socket)
        app = create_app(
            config.with_overrides(redis_url=f"unix://{socket}", queue_name="restart-test")
        )
        world = make_world(app)
        world.add_channel(receiver.url)
        world.report("in_production")
        assert world.pipeline.queue.count >= 1

        server.terminate()
        server.wait(10)
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _wait_for_socket(socket)
        app.extensions["redis"].client.connection_pool.disconnect()
        assert world.pipeline.queue.count == 0  # the job is gone

        world.run_jobs()
        assert receiver.requests == []
        with later(60):
            world.sweep_and_run()
        assert len(receiver.wait_for(1)) == 1
    finally:
        server.terminate()
        server.wait(10)
        with engine.begin() as conn:
            from service.models import metadata

            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


def _wait_for_socket(path):
    if not wait_until_answering(path):
        pytest.fail("redis-server did not start")


def test_a_crash_between_commit_and_enqueue_loses_nothing(world, receiver, monkeypatch):
    channel_id = world.add_channel(receiver.url)
    # The web process commits, then dies before it can enqueue: no job is ever queued.
    with monkeypatch.context() as patch:
        patch.setattr(world.pipeline, "publish", lambda wake, counts: None)
        world.report("in_production")
    world.run_jobs()
    assert receiver.requests == []

    world.sweep_and_run()  # too soon: the message has not waited long enough
    assert receiver.requests == []
    with later(60):
        world.sweep_and_run()
    assert len(receiver.wait_for(1)) == 1
    assert world.deliveries(channel_id)[0].state == DeliveryState.DELIVERED


def test_a_lease_left_by_a_dead_worker_does_not_block_the_channel_forever(world, receiver):
    channel_id = world.add_channel(receiver.url)
    with world.session() as session:
        session.execute(
            update(Channel).where(Channel.id == channel_id).values(lease_until=Channel.created_at)
        )
        session.commit()
    world.report("in_production")
    world.run_jobs()
    assert len(receiver.wait_for(1)) == 1


@pytest.mark.pipeline_config(coalesce_window_seconds=0)
def test_a_running_drain_takes_what_is_committed_meanwhile_then_steps_down(
    world, receiver, monkeypatch
):
    """A stream of commits costs one drain job: while it runs, commits queue nothing and it
    takes their rows; once it finds none, the next commit queues a job again."""
    world.add_channel(receiver.url)
    pipeline = world.pipeline
    world.report("designed")
    assert pipeline.queue.count == 1
    pipeline.queue.empty()  # this test runs that drain itself
    push = pipeline.push

    def push_while_a_factory_reports(channel_ids):
        monkeypatch.setattr(pipeline, "push", push)
        world.report("in_production")  # committed while the drain runs
        assert pipeline.queue.count == 0  # left to the running drain
        push(channel_ids)

    monkeypatch.setattr(pipeline, "push", push_while_a_factory_reports)
    pipeline.drain()

    received = receiver.wait_for(2)
    assert [r.json["data"]["message"]["payload"]["milestone"] for r in received] == [
        "designed",
        "in_production",
    ]
    assert pipeline.queue.count == 0
    world.report("shipped")
    assert pipeline.queue.count == 1  # the drain stepped down: this commit queued the next
