"""Putting the pipeline's jobs on RQ. Job ids name what a job is about, so that a job
enqueued twice for the same thing (a sweep racing a scheduled push) is stored once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

# Jobs are retried by the sweeper, not by RQ; a failed job is kept a week for inspection.
FAILURE_TTL = int(timedelta(days=7).total_seconds())
JOB_TIMEOUT = 300
# Scheduling closer to now than this is not worth the scheduler's round trip.
SCHEDULE_THRESHOLD = timedelta(milliseconds=500)


def pipeline_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis)


def enqueue_drain(queue: Queue) -> None:
    queue.enqueue(
        "jobs.pipeline.drain", result_ttl=0, failure_ttl=FAILURE_TTL, job_timeout=JOB_TIMEOUT
    )


def enqueue_plan(queue: Queue, outbox_ids: list[uuid.UUID]) -> None:
    queue.enqueue(
        "jobs.pipeline.plan_and_push",
        [str(i) for i in outbox_ids],
        job_id=f"plan-{outbox_ids[0]}",
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
        job_timeout=JOB_TIMEOUT,
    )


def enqueue_push(queue: Queue, channel_id: uuid.UUID, at: datetime | None = None) -> None:
    """A push for the channel, now or when something on it falls due."""
    options = dict(result_ttl=0, failure_ttl=FAILURE_TTL, job_timeout=JOB_TIMEOUT)
    if at is not None and at - datetime.now(UTC) > SCHEDULE_THRESHOLD:
        queue.enqueue_at(
            at,
            "jobs.pipeline.push",
            str(channel_id),
            job_id=f"push-{channel_id}-{int(at.timestamp())}",
            **options,
        )
    else:
        queue.enqueue("jobs.pipeline.push", str(channel_id), **options)
