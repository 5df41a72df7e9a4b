"""Counters shared by every process (gunicorn workers, RQ workers, on any host), kept in Redis,
and their Prometheus text exposition.

One hash holds them all: a field per (metric, labels), incremented with HINCRBY, so counting is
one round trip and needs no lock. Counting never fails the work being counted: a Redis error is
logged and the count is lost.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger(__name__)

KEY = "chain_collab:metrics"

WEBHOOK_REQUESTS_REJECTED = "chain_collab_webhook_requests_rejected_total"
WEBHOOK_EVENTS_ACCEPTED = "chain_collab_webhook_events_accepted_total"
PUSHES = "chain_collab_pushes_total"

HELP = {
    WEBHOOK_REQUESTS_REJECTED: (
        "Progress webhook requests turned down, by reason: the error code answered "
        "(too_large; signature_missing, signature_malformed, timestamp_out_of_range, "
        "signature_mismatch; bad_request; invalid)."
    ),
    WEBHOOK_EVENTS_ACCEPTED: "Progress events recorded from factories' webhooks.",
    PUSHES: (
        "Push attempts to channels, by channel type and outcome "
        "(delivered, retry, rate_limited, gone, failed)."
    ),
}

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def _field(name: str, labels: dict[str, str]) -> str:
    return json.dumps([name, sorted(labels.items())], separators=(",", ":"), ensure_ascii=False)


# Where a session keeps what it counts until it commits.
ON_COMMIT = "metrics.on_commit"


def count_on_commit(session, name: str, amount: int = 1, **labels: str) -> None:
    """Count `amount` if, and when, the session's transaction commits: it is sent to Redis
    with the commit's other news (see service.notify.outbox.publish_after_commit), in the
    same round trip."""
    session.info.setdefault(ON_COMMIT, []).append((name, amount, labels))


def add(pipe, name: str, amount: int = 1, **labels: str) -> None:
    """Queue `amount` for the counter `name` on a Redis pipeline (not sent yet)."""
    if not _NAME.match(name) or not all(map(_LABEL_NAME.match, labels)):
        raise ValueError(f"not a metric name or label name: {name} {sorted(labels)}")
    pipe.hincrby(KEY, _field(name, {key: str(value) for key, value in labels.items()}), int(amount))


def count(redis_client, name: str, amount: int = 1, **labels: str) -> None:
    """Add `amount` to the counter `name` with these labels. Never raises; without a client
    (None), counts nothing."""
    if redis_client is None:
        return
    try:
        add(redis_client, name, amount, **labels)
    except Exception as error:
        # One line, no traceback: with Redis down this happens on every request.
        log.warning("Could not count %s %s: %r", name, labels, error)


def render(redis_client, gauges: dict[tuple[str, str], float] | None = None) -> bytes:
    """Every counter, and the caller's gauges ((name, help) -> value), in the Prometheus text
    format. Without Redis, the gauges alone."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counters(_read_counters(redis_client), gauges or {}))
    return generate_latest(registry)


def _read_counters(redis_client) -> dict[str, list[tuple[dict[str, str], float]]]:
    """name -> [(labels, value)], from the hash; empty when Redis does not answer."""
    if redis_client is None:
        return {}
    try:
        raw = redis_client.hgetall(KEY)
    except Exception as error:
        log.warning("Could not read the counters from Redis: %r", error)
        return {}
    counters: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for field, value in raw.items():
        try:
            name, labels = json.loads(field)
            counters[name].append((dict(labels), float(value)))
        except (ValueError, TypeError):
            log.warning("Skipping a malformed counter field %r", field)
    return counters


class _Counters(Collector):
    def __init__(self, counters, gauges):
        self._counters = counters
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for name, samples in sorted(self._counters.items()):
            # A name counted with different labels at different times: the missing ones are
            # empty, which Prometheus reads as absent.
            label_names = sorted({key for labels, _ in samples for key in labels})
            family = CounterMetricFamily(
                name, HELP.get(name, name.replace("_", " ")), labels=label_names
            )
            for labels, value in sorted(samples, key=lambda sample: sorted(sample[0].items())):
                family.add_metric([labels.get(key, "") for key in label_names], value)
            yield family
        for (name, help_text), value in sorted(self._gauges.items()):
            yield GaugeMetricFamily(name, help_text, value=value)
