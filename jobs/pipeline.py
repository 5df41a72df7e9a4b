"""The notification pipeline's jobs: drain the outbox (plan deliveries, push them), plan
given rows, push a channel, sweep.

A job runs with the pipeline of the app that enqueued it in mind: inside `flask --app wsgi
worker` it uses that app's; under a bare `rq worker` it builds one from the environment, once
per process (never the app: the app factory is a layer above the jobs).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from flask import current_app, has_app_context

from jobs.pushes import push_channels
from jobs.queues import enqueue_drain, enqueue_plan, enqueue_push, pipeline_queue
from service import metrics
from service.channels.urls import OutboundPolicy
from service.config import Config
from service.db import Database
from service.notify.outbox import group_channel, publish_after_commit
from service.notify.planning import plan
from service.notify.sending import PushSettings
from service.notify.sweeping import sweep
from service.redis_server import RedisHandle

log = logging.getLogger(__name__)

# Outbox rows planned in one transaction, and channels claimed and recorded in one.
DRAIN_BATCH = 500
PUSH_BATCH = 100
# Requests in flight at once per worker: pushes wait on the network, not on the CPU.
SEND_THREADS = 16
# A queued drain job is trusted to start within this; after it, another is queued.
DRAIN_FLAG_SECONDS = 60
# A running drain renews the flag for this long at each look: if its worker dies, commits
# queue drains again after this (the sweeper finds rows committed in between).
DRAINING_FLAG_SECONDS = 5
# A drain that keeps finding rows hands over to a fresh job after this.
DRAIN_BUDGET_SECONDS = 30


class Pipeline:
    """What the pipeline needs: database, queue, push settings, HTTP client. Kept in
    app.extensions["pipeline"]; everything is made on first use."""

    @classmethod
    def wired(cls, config: Config, db: Database, redis: RedisHandle) -> Pipeline:
        """The pipeline over this database and Redis, told of every commit of its sessions:
        outbox rows go on the queue when, and only when, their transaction commits."""
        pipeline = cls(config, db, redis)
        publish_after_commit(
            db.sessionmaker, lambda wake, counts, groups: pipeline.publish(wake, counts, groups)
        )
        return pipeline

    def __init__(self, config: Config, db: Database, redis: RedisHandle):
        self.config = config
        self.db = db
        self.redis = redis
        self.settings = PushSettings(
            timeout=config.delivery_timeout_seconds,
            coalesce_window=timedelta(seconds=config.coalesce_window_seconds),
            policy=OutboundPolicy.from_config(config),
            concurrency=SEND_THREADS,
        )
        self._client: httpx.Client | None = None
        self._senders: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def queue(self):
        return pipeline_queue(self.redis.client, self.config.queue_name)

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                )
            return self._client

    @property
    def senders(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._senders is None:
                self._senders = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="push")
            return self._senders

    def group_channel(self, group_id: uuid.UUID) -> str:
        return group_channel(self.config.queue_name, group_id)

    @property
    def _drain_flag(self) -> str:
        return f"chain_collab:drain_queued:{self.config.queue_name}"

    def publish(self, wake: bool, counts: list = (), groups: list[uuid.UUID] = ()) -> None:
        """After a commit: count what it counted, wake the open chat pages of the groups it
        wrote messages in, and, if it wrote outbox entries (`wake`), see that a drain is
        queued or running, in one round trip to Redis. While a drain is, the flag is up and
        later commits queue nothing: that drain takes their entries, so a stream of commits
        costs one job, not one each."""
        with self.redis.client.pipeline(transaction=False) as pipe:
            for name, amount, labels in counts:
                metrics.add(pipe, name, amount, **labels)
            for group_id in groups:
                pipe.publish(self.group_channel(group_id), "1")
            if wake:
                pipe.set(self._drain_flag, 1, nx=True, ex=DRAIN_FLAG_SECONDS)
            # Sent whether or not there are rows: a commit may bring counts alone.
            answers = pipe.execute()
        flag_was_down = wake and answers[-1]
        if flag_was_down:
            enqueue_drain(self.queue)

    def drain(self) -> None:
        """Plan and push outbox entries (messages, rows) until none are left. The flag stays
        up while they keep coming (refreshed, so a killed worker's flag soon lapses); once a
        look finds nothing, it is taken down and one more look is made: a commit before that
        saw the flag and relies on this drain, one after it queues the next."""
        started, closing, helped = time.monotonic(), False, False
        self.redis.client.set(self._drain_flag, 1, ex=DRAINING_FLAG_SECONDS)
        while True:
            if not closing and time.monotonic() - started > DRAIN_BUDGET_SECONDS:
                # Long enough in one job: hand over to the next drain a commit queues.
                closing = True
                self.redis.client.delete(self._drain_flag)
            with self.db.session() as session:
                touched, taken = plan(session, limit=DRAIN_BATCH)
                session.commit()
            full = taken >= DRAIN_BATCH  # a full batch of messages or rows, or both
            if full and not helped:
                enqueue_drain(self.queue)  # a backlog: let another worker drain beside us
                helped = True
            self.push(touched)
            if full:
                continue
            if closing:
                return
            if taken:
                self.redis.client.set(self._drain_flag, 1, ex=DRAINING_FLAG_SECONDS)
            else:
                closing = True
                self.redis.client.delete(self._drain_flag)

    def plan_and_push(self, outbox_ids: list[uuid.UUID]) -> None:
        with self.db.session() as session:
            touched, _ = plan(session, outbox_ids)
            session.commit()
        self.push(touched)

    def push(self, channel_ids) -> None:
        channel_ids = sorted(channel_ids)
        for start in range(0, len(channel_ids), PUSH_BATCH):
            self._push_batch(channel_ids[start : start + PUSH_BATCH])

    def _push_batch(self, channel_ids: list[uuid.UUID]) -> None:
        outcomes: Counter[tuple[str, str]] = Counter()
        later = push_channels(
            self.db,
            self.client,
            channel_ids,
            self.settings,
            on_result=lambda type_, result: outcomes.update([(type_, result.outcome)]),
            send_many=self.senders.map,
        )
        # Counted a batch at a time: a round trip to Redis for each push costs more than
        # anything else the worker does for it.
        for (type_, outcome), pushes in outcomes.items():
            metrics.count(self.redis.client, metrics.PUSHES, pushes, type=type_, outcome=outcome)
        for channel_id, until in later.items():
            if until is not None:
                enqueue_push(self.queue, channel_id, until)

    def sweep(self) -> tuple[int, int]:
        """Enqueue again what lost jobs left behind; returns (outbox rows, channels)."""
        with self.db.session() as session:
            swept = sweep(session, deadline=timedelta(seconds=self.config.outbox_deadline_seconds))
            session.commit()
        queue = self.queue
        for start in range(0, len(swept.outbox_ids), 500):
            enqueue_plan(queue, swept.outbox_ids[start : start + 500])
        for channel_id in swept.channel_ids:
            enqueue_push(queue, channel_id)
        if swept.messages_waiting:
            enqueue_drain(queue)
        if swept.outbox_ids or swept.channel_ids or swept.messages_waiting:
            log.info(
                "Sweep: %d outbox rows, %d channels enqueued again%s",
                len(swept.outbox_ids),
                len(swept.channel_ids),
                "; messages waited to be planned: a drain queued" * swept.messages_waiting,
            )
        return len(swept.outbox_ids), len(swept.channel_ids)


_pipeline_for_bare_rq: Pipeline | None = None


def _pipeline() -> Pipeline:
    global _pipeline_for_bare_rq
    if has_app_context():
        return current_app.extensions["pipeline"]
    if _pipeline_for_bare_rq is None:
        config = Config.from_env()
        _pipeline_for_bare_rq = Pipeline.wired(
            config, Database(config.sqlalchemy_url), RedisHandle(config)
        )
    return _pipeline_for_bare_rq


def drain() -> None:
    """Plan and push every outbox entry waiting, a batch at a time."""
    _pipeline().drain()


def plan_and_push(outbox_ids: list[str]) -> None:
    """Plan and push these outbox rows (the sweeper's way of handing back lost ones)."""
    _pipeline().plan_and_push([uuid.UUID(i) for i in outbox_ids])


def push(channel_id: str) -> None:
    _pipeline().push([uuid.UUID(channel_id)])


def sweep_now() -> tuple[int, int]:
    return _pipeline().sweep()
