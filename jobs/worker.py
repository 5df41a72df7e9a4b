"""The worker `flask --app wsgi worker` runs: RQ's SimpleWorker (jobs run in the worker's
own process: no fork per job, which caps RQ's default worker at ~150 jobs a second), with
RQ's scheduler for pushes that fall due later, and the sweeper on a timer beside them."""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker

log = logging.getLogger(__name__)


class PipelineWorker(SimpleWorker):
    """A SimpleWorker that also sweeps every `sweep_interval` seconds. Of several workers
    sharing a Redis, one sweeps per interval (a lock with that lifetime); a sweep that
    fails (Redis or the database away) is tried again at the next tick."""

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

    def _sweep_forever(self) -> None:
        lock_key = f"chain_collab:sweeper:{self.pipeline.config.queue_name}"
        while not self._stop_sweeping.wait(self.sweep_interval):
            try:
                ttl_ms = max(int(self.sweep_interval * 1000) - 100, 100)
                if self.pipeline.redis.client.set(lock_key, self.name, nx=True, px=ttl_ms):
                    self.pipeline.sweep()
            except Exception:
                log.warning("Sweep failed; trying again in %ss", self.sweep_interval, exc_info=True)
