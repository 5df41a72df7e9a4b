"""The worker `flask --app wsgi worker` runs: RQ's SimpleWorker (jobs run in the worker's
own process: no fork per job, which caps RQ's default worker at ~150 jobs a second), with
RQ's scheduler for pushes that fall due later, and the sweeper on a timer beside them (which
also keeps the reports' rollups up, jobs.reports).

Redis going away (a restart, a failover) stops nothing: RQ itself waits for Redis only
while it waits for a job; anywhere else in its loop (the bookkeeping after a job, the
heartbeat, the maintenance) a connection error makes it quit, and then fail again telling
Redis so, exiting with status 1. Here each of those steps waits for Redis to answer and
carries on, and the scheduler process rides out the outage instead of dying with it.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, worker_registration
from rq.scheduler import RQScheduler

from jobs.reports import roll_up_stages

log = logging.getLogger(__name__)

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)
# Waiting for Redis to come back: first look after this, doubling up to the cap.
FIRST_WAIT_SECONDS = 0.25
MAX_WAIT_SECONDS = 5.0


def rides_out_redis(then: str, doing: str):
    """A step of RQ's loops that Redis being away must not end: on a connection error the
    step returns what its object's method `then(error, doing)` returns."""

    def decorate(step):
        @functools.wraps(step)
        def riding_out(self, *args, **kwargs):
            try:
                return step(self, *args, **kwargs)
            except REDIS_ERRORS as error:
                return getattr(self, then)(error, doing)

        return riding_out

    return decorate


class PipelineScheduler(RQScheduler):
    """RQ's scheduler, whose process lives through Redis outages: a step that finds Redis
    away is tried again at the next tick (its locks are re-acquired or given up by its
    heartbeat once Redis is back; at a stop, its locks and its entry expire on their own).
    RQ's own dies, and its worker restarts it only at its next maintenance, ten minutes
    later: pushes due meanwhile would wait that long."""

    @rides_out_redis("_redis_away", "acquiring locks")
    def acquire_locks(self, auto_start=False):
        return super().acquire_locks(auto_start)

    @rides_out_redis("_redis_away", "for a heartbeat")
    def heartbeat(self):
        super().heartbeat()

    @rides_out_redis("_redis_away", "enqueueing due jobs")
    def enqueue_scheduled_jobs(self):
        super().enqueue_scheduled_jobs()

    @rides_out_redis("_redis_away", "registering")
    def register_birth(self):
        super().register_birth()

    @rides_out_redis("_redis_away", "stopping")
    def stop(self):
        super().stop()

    def _redis_away(self, error: Exception, doing: str) -> set:
        # The next step reconnects: redis-py drops a connection that failed. No locks taken.
        self._scheduled_job_registries = []
        log.warning("Scheduler: could not connect to Redis %s (%r); trying again", doing, error)
        return set()


class PipelineWorker(SimpleWorker):
    """A SimpleWorker that also sweeps every `sweep_interval` seconds, and that waits for
    Redis wherever RQ would quit on its absence. Of several workers sharing a Redis, one
    sweeps per interval (a lock with that lifetime); a sweep that fails (Redis or the
    database away) is tried again at the next tick."""

    # RQ's wait for Redis while it waits for a job doubles up to a minute: after a long
    # outage the worker would idle that long with Redis back.
    max_connection_wait_time = MAX_WAIT_SECONDS

    def __init__(self, *args, pipeline, sweep_interval: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.pipeline = pipeline
        self.sweep_interval = sweep_interval
        self._stop_sweeping = threading.Event()

    def work(self, *args, **kwargs):
        sweeper = threading.Thread(target=self._sweep_forever, name="sweeper", daemon=True)
        sweeper.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._stop_sweeping.set()

    # The steps of RQ's work loop outside its wait for a job, each of which would end the
    # worker on a connection error.

    # The job ran (its effects are committed, or rolled back); RQ could not record its end.
    # Nothing is lost: what a job leaves undone, the sweeper finds.
    @rides_out_redis("_wait_for_redis", "after a job")
    def execute_job(self, job, queue):
        super().execute_job(job, queue)

    def check_for_suspension(self, burst: bool):
        while True:
            try:
                return super().check_for_suspension(burst)
            except REDIS_ERRORS as error:
                self._wait_for_redis(error, "checking for suspension")
                if self._stop_requested:
                    return None

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        return self._heartbeat_at_once(timeout)

    # Waiting for a job, RQ retries on its own; after a job, the next wait does.
    @rides_out_redis("_carry_on", "for a heartbeat")
    def _heartbeat_at_once(self, timeout):
        # RQ's, in one round trip instead of three, and telling whether Redis still knew
        # the worker: if not (it restarted empty), the worker registers again.
        with self.connection.pipeline(transaction=False) as pipe:
            super().heartbeat(timeout, pipe)  # its HSET answers 1 for a new field
            forgotten = pipe.execute()[0] == 1
        if forgotten:
            self._register_again()

    @rides_out_redis("_wait_for_redis", "cleaning registries")  # done at the next look
    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()

    # Stopping while Redis is away: its entry there expires on its own.
    @rides_out_redis("_carry_on", "to tell it the worker stopped")
    def teardown(self):
        super().teardown()

    # Called by the SIGTERM handler of a busy worker: Redis being away must not turn a warm
    # shutdown into an exception raised wherever the job was.
    @rides_out_redis("_carry_on", "to tell it the worker is stopping")
    def set_shutdown_requested_date(self):
        super().set_shutdown_requested_date()

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None,
                         log_format=None):  # fmt: skip
        # RQ's own, with the scheduler above in place of RQ's.
        options = {"date_format": date_format, "log_format": log_format}
        self.scheduler = PipelineScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
            **{name: value for name, value in options.items() if value is not None},
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()
        else:
            self.scheduler.start()

    def _carry_on(self, error: Exception, doing: str) -> None:
        log.warning("Worker %s: could not connect to Redis %s (%r)", self.name, doing, error)

    def _wait_for_redis(self, error: Exception, doing: str) -> None:
        """Block until Redis answers again (or a stop is asked for), then make the worker
        known there again: a Redis restarted without its data has forgotten it."""
        log.warning(
            "Worker %s: could not connect to Redis %s (%r); waiting", self.name, doing, error
        )
        wait = FIRST_WAIT_SECONDS
        while not self._stop_requested:
            try:
                self._register_again()  # its first command is the look at Redis
                log.warning("Worker %s: Redis answers again; carrying on", self.name)
                return
            except REDIS_ERRORS:
                time.sleep(wait)
                wait = min(wait * 2, MAX_WAIT_SECONDS)

    def _register_again(self) -> None:
        if not self.connection.hexists(self.key, "birth"):
            with self.connection.pipeline() as pipe:
                pipe.hset(self.key, mapping=self.serialize())
                worker_registration.register(self, pipe)
                pipe.expire(self.key, self.worker_ttl + 60)
                pipe.execute()
        # A scheduler process that died anyway (not of Redis) is started again now, not at
        # the next maintenance.
        process = self.scheduler and self.scheduler._process
        if process is not None and not process.is_alive():
            self.scheduler.acquire_locks(auto_start=True)

    def _sweep_forever(self) -> None:
        lock_key = f"chain_collab:sweeper:{self.pipeline.config.queue_name}"
        while not self._stop_sweeping.wait(self.sweep_interval):
            try:
                ttl_ms = max(int(self.sweep_interval * 1000) - 100, 100)
                if self.pipeline.redis.client.set(lock_key, self.name, nx=True, px=ttl_ms):
                    self.pipeline.sweep()
                    roll_up_stages(self.pipeline.db)
            except REDIS_ERRORS as error:
                # One line: while Redis is away this comes every tick.
                log.warning("Sweep failed (%r); trying again in %ss", error, self.sweep_interval)
            except Exception:
                log.warning("Sweep failed; trying again in %ss", self.sweep_interval, exc_info=True)
