"""Putting the pipeline's jobs on RQ. Job ids name what a job is about, so that a job
enqueued twice for the same thing (a sweep racing a scheduled push) is stored once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue, get_current_job

# Jobs are retried by the sweeper, not by RQ; a failed job is kept a week for inspection.
FAILURE_TTL = int(timedelta(days=7).total_seconds())
JOB_TIMEOUT = 300


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
    if at is None or at <= datetime.now(UTC):
        queue.enqueue("jobs.pipeline.push", str(channel_id), **options)
        return
    # RQ's scheduler scores a job by the whole second and looks every second, so a job starts
    # within a second after `at`, or up to a second before it: that push finds the channel
    # still held and schedules itself again for the same moment. Its id must then differ
    # from the running job's, which RQ deletes as it finishes (no result is kept), taking
    # the new schedule with it; the push would wait for the sweeper instead.
    job_id = f"push-{channel_id}-{int(at.timestamp())}"
    running = get_current_job()
    if running is not None and running.id == job_id:
        job_id += "-again"
    queue.enqueue_at(at, "jobs.pipeline.push", str(channel_id), job_id=job_id, **options)
