"""The pipeline end to end: real commits, real Redis queues, real RQ workers, and real HTTP
receivers on loopback that the tests start and script (answer 500, hold a request, …)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from rq import SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.app import create_app
from service.channels.channels import create_channel
from service.channels.models import Channel, Delivery, DeliveryAttempt
from service.channels.urls import validate_channel_url
from service.db import utcnow
from service.models import metadata
from tests.blueprints.factory_webhooks.test_progress_webhook import sign
from tests.one_order import place_one_order

WAIT_SECONDS = 10  # how long a test waits for something that should happen at once


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"errcode":0,"errmsg":"ok"}'
    headers: dict = field(default_factory=dict)
    hold: threading.Event | None = None  # answer only once this is set
    taken: Received | None = None  # the request it answered


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    arrived_at: float = field(default_factory=time.time)
    port: int = 0  # the sender's

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers as scripted:
    queued answers first, then `default`."""

    def __init__(self):
        self.requests: list[Received] = []
        self.answers: list[Answer] = []
        self.default = Answer()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                received = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    port=self.client_address[1],
                )
                with receiver.arrived:
                    receiver.requests.append(received)
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                    if answer is not receiver.default:
                        answer.taken = received
                    receiver.arrived.notify_all()
                if answer.hold is not None:
                    answer.hold.wait(WAIT_SECONDS * 3)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    self.close_connection = True  # the sender is gone (a killed worker)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # senders killed mid-request
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int) -> list[Received]:
        """Block until `count` requests have arrived (failing after WAIT_SECONDS)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, WAIT_SECONDS), (
                f"expected {count} requests, got {len(self.requests)}"
            )
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def pipeline_app(config, engine, request):
    """An app of its own, on its own queue, over committed data wiped afterwards. Mark a
    test `@pytest.mark.pipeline_config(name=value)` to change its configuration."""
    marker = request.node.get_closest_marker("pipeline_config")
    overrides = {
        "queue_name": f"test-{uuid.uuid4().hex[:12]}",
        "delivery_timeout_seconds": 1.0,
        **(marker.kwargs if marker else {}),
    }
    app = create_app(config.with_overrides(**overrides))
    yield app
    app.extensions["pipeline"].queue.empty()
    app.extensions["db"].engine.dispose()
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@dataclass
class World:
    """A chain whose customer has an order with a Foshan work item and a delivery group."""

    app: object
    chain_id: uuid.UUID
    group_id: uuid.UUID
    factory_id: uuid.UUID
    factory_secret: str
    work_item_id: uuid.UUID

    @property
    def db(self):
        return self.app.extensions["db"]

    @property
    def pipeline(self):
        return self.app.extensions["pipeline"]

    def session(self) -> Session:
        return self.db.session()

    def add_channel(self, receiver_url: str, type: str = "webhook", **options) -> uuid.UUID:
        options.setdefault("customer_facing", False)
        with self.session() as session:
            channel, _ = create_channel(
                session,
                chain_id=self.chain_id,
                group_id=self.group_id,
                type=type,
                url=validate_channel_url(receiver_url, self.pipeline.settings.policy),
                **options,
            )
            session.commit()
            return channel.id

    def report(self, milestone: str, webhook_id: str | None = None, note: str = ""):
        """A factory's signed progress webhook, through the real endpoint."""
        webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        body = json.dumps(
            {"work_item": str(self.work_item_id), "milestone": milestone, "note": note}
        ).encode()
        timestamp = int(time.time())
        response = self.app.test_client().post(
            f"/webhooks/factories/{self.factory_id}/progress",
            data=body,
            headers={
                "webhook-id": webhook_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.factory_secret, webhook_id, timestamp, body),
                "content-type": "application/json",
            },
        )
        assert response.status_code in (200, 202), response.get_json()
        return response

    def run_jobs(self) -> None:
        """Run what is queued, in this process, until the queue is empty (RQ's burst mode;
        its scheduler first moves the scheduled jobs that are due onto the queue)."""
        queue = self.pipeline.queue
        with self.app.app_context():
            SimpleWorker([queue], connection=queue.connection).work(
                burst=True, with_scheduler=True, logging_level="WARNING"
            )

    def sweep_and_run(self) -> None:
        self.pipeline.sweep()
        self.run_jobs()

    def deliveries(self, channel_id) -> list[Delivery]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(Delivery).where(Delivery.channel_id == channel_id).order_by(Delivery.id)
                )
            )

    def attempts(self, channel_id) -> list[DeliveryAttempt]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.channel_id == channel_id)
                    .order_by(DeliveryAttempt.started_at, DeliveryAttempt.id)
                )
            )

    def channel(self, channel_id) -> Channel:
        with self.session() as session:
            return session.get(Channel, channel_id)

    def count(self, model) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(pipeline_app) -> World:
    return make_world(pipeline_app)


def make_world(app) -> World:
    db = app.extensions["db"]
    with db.session() as session:
        placed = place_one_order(session, [("Foshan", "Sofa frame", 1, "FS-77")])
        session.commit()
        factory, secret = placed.factories["Foshan"]
        world = World(
            app, placed.chain.id, placed.group.id, factory.id, secret, placed.order.items[0].id
        )
    # The welcome message and the order's setup are history: start from an empty queue.
    world.run_jobs()
    return world


def later(seconds: float):
    """Move this process's clock ahead (RQ and our code both read it), ticking on."""
    from datetime import timedelta

    return time_machine.travel(utcnow() + timedelta(seconds=seconds), tick=True)


def at(moment: datetime):
    return time_machine.travel(moment, tick=True)


def start_worker(world: World, log_path, **settings) -> subprocess.Popen:
    """A real `flask --app wsgi worker` on the world's database and queue, in a process
    group of its own (with RQ's scheduler); `settings` are environment variables."""
    config = world.pipeline.config
    env = {
        **os.environ,
        "INSTANCE_PATH": str(config.instance_path),
        "QUEUE_NAME": config.queue_name,
        "OUTBOUND_ALLOWED_NETWORKS": ",".join(config.outbound_allowed_networks),
        "DELIVERY_TIMEOUT_SECONDS": "30",
        "SECRET_KEY": "test",
        **{name: str(value) for name, value in settings.items()},
    }
    for name, value in (("DATABASE_URL", config.database_url), ("REDIS_URL", config.redis_url)):
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        env=env,
        stdout=open(log_path, "a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until(condition, seconds: float = WAIT_SECONDS, every: float = 0.05, message=""):
    """Poll `condition` until it is true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message or f"not true within {seconds} s")
        time.sleep(every)
