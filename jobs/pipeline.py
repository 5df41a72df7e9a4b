"""The notification pipeline's jobs: plan an outbox batch and push it, push a channel, sweep.

A job runs with the app that enqueued it in mind: inside `flask --app wsgi worker` it uses
that app; under a bare `rq worker` it builds one from the environment, once per process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from flask import Flask, current_app, has_app_context

from jobs.queues import enqueue_plan, enqueue_push, pipeline_queue
from service import metrics
from service.channels.pushing import PushSettings, Result, plan, push_channel, sweep
from service.channels.urls import OutboundPolicy

log = logging.getLogger(__name__)

# Channels pushed at once by one job: pushes wait on the network, not on the CPU.
PUSH_THREADS = 8


class Pipeline:
    """What the pipeline needs from the app: database, queue, push settings, HTTP client.
    Kept in app.extensions["pipeline"]; everything is made on first use."""

    def __init__(self, config, db, redis):
        self.config = config
        self.db = db
        self.redis = redis
        self.settings = PushSettings(
            timeout=config.delivery_timeout_seconds,
            coalesce_window=timedelta(seconds=config.coalesce_window_seconds),
            policy=OutboundPolicy.from_config(config),
        )
        self._client: httpx.Client | None = None
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

    def publish(self, outbox_ids: list[uuid.UUID]) -> None:
        """After a commit: put its outbox rows on the queue, in batches of a job each."""
        for start in range(0, len(outbox_ids), 500):
            enqueue_plan(self.queue, outbox_ids[start : start + 500])

    def push(self, channel_ids) -> None:
        channel_ids = list(channel_ids)
        if not channel_ids:
            return
        if len(channel_ids) == 1:
            self._push_one(channel_ids[0])
            return
        with ThreadPoolExecutor(max_workers=min(PUSH_THREADS, len(channel_ids))) as pool:
            for _ in pool.map(self._push_one, channel_ids):
                pass

    def _push_one(self, channel_id: uuid.UUID) -> None:
        until = push_channel(self.db, self.client, channel_id, self.settings, on_result=self._count)
        if until is not None:
            enqueue_push(self.queue, channel_id, until)

    def _count(self, channel_type: str, result: Result) -> None:
        metrics.count(
            self.redis.client,
            "chain_collab_pushes_total",
            type=channel_type,
            outcome=result.outcome,
        )

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
        if swept.outbox_ids or swept.channel_ids:
            log.info(
                "Sweep: %d outbox rows, %d channels enqueued again",
                len(swept.outbox_ids),
                len(swept.channel_ids),
            )
        return len(swept.outbox_ids), len(swept.channel_ids)


_app_for_bare_rq: Flask | None = None


def _pipeline() -> Pipeline:
    global _app_for_bare_rq
    if has_app_context():
        return current_app.extensions["pipeline"]
    if _app_for_bare_rq is None:
        from service.app import create_app

        _app_for_bare_rq = create_app()
    return _app_for_bare_rq.extensions["pipeline"]


def plan_and_push(outbox_ids: list[str]) -> None:
    """Plan the deliveries an outbox batch causes, then push the channels concerned at once
    (the common case: the first message on a quiet channel goes out with no more waiting)."""
    pipeline = _pipeline()
    with pipeline.db.session() as session:
        touched = plan(session, [uuid.UUID(i) for i in outbox_ids])
        session.commit()
    pipeline.push(sorted(touched))


def push(channel_id: str) -> None:
    _pipeline().push([uuid.UUID(channel_id)])


def sweep_now() -> tuple[int, int]:
    return _pipeline().sweep()
