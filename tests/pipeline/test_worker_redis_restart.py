"""Redis goes away and comes back under running `flask --app wsgi worker` processes: they
stay up, reconnect, and carry on taking jobs, scheduling pushes and sweeping."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.app import create_app
from service.models import metadata
from service.redis_server import redis_binary, wait_until_answering
from tests.pipeline.conftest import WAIT_SECONDS, Answer, make_world

RESTARTS = 4
MILESTONES = ["designed", "in_production", "quality_checked", "shipped", "delivered", "installed"]
# What a worker logs when it finds Redis away (RQ while it waits for a job, the pipeline's
# worker elsewhere).
REDIS_AWAY = "could not connect to Redis"


class RedisServer:
    """A redis-server of the test's own on a unix socket, without persistence: a restart
    empties it, as a real one's failover or a crash without persistence would."""

    def __init__(self, directory):
        self.socket = directory / "redis.sock"
        self.command = [
            str(redis_binary()), "--port", "0", "--unixsocket", str(self.socket),
            "--save", "", "--appendonly", "no", "--dir", str(directory),
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), retry=Retry(NoBackoff(), 0))

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        if not wait_until_answering(self.socket):
            pytest.fail("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: Redis shuts down, dropping every connection
        self.process.wait(WAIT_SECONDS)
        assert not wait_until_answering(self.socket, timeout=0)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def start_worker(app, redis_url: str, log_path):
    config = app.extensions["pipeline"].config
    env = {
        **os.environ,
        "INSTANCE_PATH": str(config.instance_path),
        "REDIS_URL": redis_url,
        "QUEUE_NAME": config.queue_name,
        "OUTBOUND_ALLOWED_NETWORKS": ",".join(config.outbound_allowed_networks),
        "DELIVERY_TIMEOUT_SECONDS": "5",
        "COALESCE_WINDOW_SECONDS": str(config.coalesce_window_seconds),
        "SWEEP_INTERVAL_SECONDS": "0.5",
        "OUTBOX_DEADLINE_SECONDS": "1",
        "SECRET_KEY": "test",
    }
    if config.database_url:
        env["DATABASE_URL"] = config.database_url
    else:
        env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        env=env,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until(condition, what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_size(directory, i: int) -> int:
    return (directory / f"worker{i}.log").stat().st_size


def log_since(directory, i: int, offset: int) -> str:
    with open(directory / f"worker{i}.log", errors="replace") as log:
        log.seek(offset)
        return log.read()


def workers_registered(server: RedisServer, queue_name: str) -> int:
    # RQ's set of the workers listening on a queue.
    try:
        return server.client().scard(f"rq:workers:{queue_name}")
    except redis.ConnectionError:
        return 0


def scheduler_running(server: RedisServer, queue_name: str) -> bool:
    # RQ's scheduler holds this lock while it moves due jobs onto the queue.
    try:
        return bool(server.client().exists(f"rq:scheduler-lock:{queue_name}"))
    except redis.ConnectionError:
        return False


@pytest.fixture
def restart_world(config, engine, redis_server):
    app = create_app(
        config.with_overrides(
            redis_url=redis_server.url,
            queue_name=f"restart-{uuid.uuid4().hex[:8]}",
            coalesce_window_seconds=1.0,
        )
    )
    yield make_world(app)
    app.extensions["db"].engine.dispose()
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def test_workers_outlive_redis_restarts_and_carry_on(
    restart_world, redis_server, receiver, tmp_path, monkeypatch
):
    world = restart_world
    queue_name = world.pipeline.config.queue_name
    world.add_channel(receiver.url)
    workers = [start_worker(world.app, redis_server.url, tmp_path / f"worker{i}.log")
               for i in range(2)]  # fmt: skip

    def logs() -> str:
        return "\n".join(
            f"--- worker {i}\n" + (tmp_path / f"worker{i}.log").read_text() for i in range(2)
        )

    try:
        wait_until(lambda: workers_registered(redis_server, queue_name) == 2, "both workers")
        wait_until(lambda: scheduler_running(redis_server, queue_name), "the scheduler")
        for round_, milestone in enumerate(MILESTONES[:RESTARTS], start=1):
            # Redis stops while a worker is in the middle of a push, and stays down until it
            # has finished that job (what RQ does after a job needs Redis) and every worker
            # has found Redis away.
            held = Answer(hold=threading.Event())
            receiver.answers.append(held)
            world.report(milestone)
            receiver.wait_for(round_)
            redis_server.stop()
            marks = [log_size(tmp_path, i) for i in range(2)]
            held.hold.set()
            wait_until(
                lambda marks=marks: all(
                    w.poll() is not None or REDIS_AWAY in log_since(tmp_path, i, marks[i])
                    for i, w in enumerate(workers)
                ),
                "every worker to find Redis away",
            )
            redis_server.start()
            assert [w.poll() for w in workers] == [None, None], logs()
            wait_until(lambda: scheduler_running(redis_server, queue_name), "the scheduler back")
            # Redis came back empty: each worker made itself known there again.
            wait_until(
                lambda: workers_registered(redis_server, queue_name) == 2, "both workers back"
            )

        # A new job after the last restart is taken...
        world.report(MILESTONES[RESTARTS])
        receiver.wait_for(RESTARTS + 1)
        # ...and so is a commit whose news never reached Redis: only the sweeper finds it.
        monkeypatch.setattr(world.pipeline, "publish", lambda ids, counts: None)
        world.report(MILESTONES[RESTARTS + 1])
        received = receiver.wait_for(RESTARTS + 2)
        assert [w.poll() for w in workers] == [None, None], logs()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            try:
                worker.wait(WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
    milestones = [r.json["data"]["message"]["payload"]["milestone"] for r in received]
    assert milestones == MILESTONES[: RESTARTS + 2]
    # Stopped by SIGTERM, they end as RQ's warm shutdown does: cleanly.
    assert [w.returncode for w in workers] == [0, 0], logs()
