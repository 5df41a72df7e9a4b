"""/metrics, and the counters the progress webhook keeps. The tests' Redis is shared (by the
tests of this run, and by other runs on the same REDIS_URL), so every check is a difference
between two scrapes."""

from __future__ import annotations

import contextlib
import logging
import socket
import uuid

import pytest
import redis
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry

from blueprints.factory_webhooks.signatures import REFUSALS
from service import metrics
from tests.blueprints.factory_webhooks import test_progress_webhook as webhooks
from tests.blueprints.factory_webhooks.test_progress_webhook import post

# The webhook tests' fixture: a chain with a factory, its signing secret and work item "FS-77".
factory = webhooks.factory


@pytest.fixture(autouse=True)
def own_counters(monkeypatch, app):
    """Counters of this test's own: other test processes sharing the Redis count rejected
    webhooks too, and would move the deltas compared here."""
    key = f"{metrics.KEY}:test-{uuid.uuid4().hex}"
    monkeypatch.setattr(metrics, "KEY", key)
    yield
    with contextlib.suppress(Exception):
        app.extensions["redis"].client.delete(key)


REJECTED = metrics.WEBHOOK_REQUESTS_REJECTED
ACCEPTED = metrics.WEBHOOK_EVENTS_ACCEPTED
PENDING = "chain_collab_outbox_pending"
REASONS = ("too_large", *REFUSALS, "bad_request", "invalid")


def scrape(client) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, from GET /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


class Counters:
    """The difference between scrapes: `delta(name, **labels)`."""

    def __init__(self, client):
        self.client = client
        self.before = scrape(client)

    def delta(self, name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return scrape(self.client).get(key, 0) - self.before.get(key, 0)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_redis() -> redis.Redis:
    return redis.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )


class UnreachableRedis:
    """Stands in for the app's RedisHandle."""

    client = unreachable_redis()


class EmbeddedRedisWontStart:
    @property
    def client(self):
        raise RuntimeError("Embedded Redis did not start")


EVENT = {"work_item": "FS-77", "milestone": "shipped"}


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"secret": "whsec_" + "A" * 32}, "signature_mismatch"),
        ({"signature": "v1,AAA"}, "signature_malformed"),
        ({"timestamp": 1}, "timestamp_out_of_range"),
    ],
)
def test_a_refused_signature_counts_by_its_code(client, factory, kwargs, reason):
    counters = Counters(client)
    assert post(client, factory, EVENT, **kwargs).status_code == 401
    assert counters.delta(REJECTED, reason=reason) == 1
    assert sum(counters.delta(REJECTED, reason=other) for other in REASONS) == 1


def test_an_unknown_factory_counts_as_a_signature_mismatch(client, factory):
    counters = Counters(client)
    factory.id = uuid.uuid4()
    assert post(client, factory, EVENT).status_code == 401
    assert counters.delta(REJECTED, reason="signature_mismatch") == 1


def test_a_body_too_large_counts_as_too_large(client, factory):
    counters = Counters(client)
    assert post(client, factory, None, raw=b"x" * (64 * 1024 + 1)).status_code == 413
    assert counters.delta(REJECTED, reason="too_large") == 1


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [({"raw": b"{not json"}, 400), ({"webhook_id": "x" * 201}, 400)],
)
def test_a_bad_request_counts_as_bad_request(client, factory, kwargs, status):
    counters = Counters(client)
    assert post(client, factory, EVENT, **kwargs).status_code == status
    assert counters.delta(REJECTED, reason="bad_request") == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"work_item": "FS-77", "milestone": "teleported"},  # the schema refuses it
        {"work_item": "no-such-item", "milestone": "shipped"},  # the domain refuses it
        ["not", "an", "object"],
    ],
)
def test_invalid_events_count_as_invalid(client, factory, payload):
    counters = Counters(client)
    assert post(client, factory, payload).status_code == 422
    assert counters.delta(REJECTED, reason="invalid") == 1
    assert counters.delta(ACCEPTED) == 0


def test_accepted_events_are_counted_once_per_event(client, factory):
    counters = Counters(client)
    batch = {"events": [{"work_item": "FS-77", "milestone": "in_production"}, EVENT]}
    response = post(client, factory, batch, webhook_id="msg_batch")
    assert response.status_code == 202, response.get_json()
    assert counters.delta(ACCEPTED) == 2
    # A retry of the same delivery records nothing new, and counts nothing.
    assert post(client, factory, batch, webhook_id="msg_batch").status_code == 200
    assert counters.delta(ACCEPTED) == 2
    assert sum(counters.delta(REJECTED, reason=reason) for reason in REASONS) == 0


def test_the_outbox_gauge_counts_entries_waiting(client, factory):
    before = scrape(client)[(PENDING, ())]
    assert post(client, factory, EVENT).status_code == 202
    # The event's notification, not yet planned.
    assert scrape(client)[(PENDING, ())] == before + 1


def test_counters_are_known_by_their_help_and_type(client):
    metrics.count(client.application.extensions["redis"].client, ACCEPTED, 0)
    text = client.get("/metrics").get_data(as_text=True)
    assert f"# TYPE {ACCEPTED} counter" in text
    assert f"# HELP {ACCEPTED} {metrics.HELP[ACCEPTED]}" in text
    assert f"# TYPE {PENDING} gauge" in text


def test_labels_are_one_counter_whatever_order_they_are_given_in(client):
    redis_client = client.application.extensions["redis"].client
    counters = Counters(client)
    metrics.count(redis_client, metrics.PUSHES, type="webhook", outcome="delivered")
    metrics.count(redis_client, metrics.PUSHES, 2, outcome="delivered", type="webhook")
    assert counters.delta(metrics.PUSHES, type="webhook", outcome="delivered") == 3


def test_count_never_raises(caplog):
    with caplog.at_level(logging.WARNING, logger="service.metrics"):
        metrics.count(unreachable_redis(), ACCEPTED, 1)
        metrics.count(unreachable_redis(), REJECTED, reason="too_large")
        metrics.count(None, ACCEPTED)
        metrics.count(unreachable_redis(), "not a metric name")
    assert len(caplog.records) == 3


@pytest.mark.parametrize("handle", [UnreachableRedis(), EmbeddedRedisWontStart()])
def test_without_redis_the_webhook_answers_and_metrics_show_the_gauges(
    client,
    bound_app,
    factory,
    monkeypatch,
    handle,
):
    monkeypatch.setitem(bound_app.extensions, "redis", handle)
    assert post(client, factory, EVENT, secret="whsec_" + "A" * 32).status_code == 401
    assert post(client, factory, EVENT).status_code == 202
    samples = scrape(client)
    assert (PENDING, ()) in samples
    assert not [name for name, _ in samples if name != PENDING]


def test_every_accepted_event_is_counted_whatever_it_changes(client, factory):
    """42 events: ones that move the work item, late and repeated ones that change nothing
    but the timeline, singles and batches, by our id and by the factory's reference."""
    counters = Counters(client)
    steps = ["designed", "in_production", "quality_checked", "shipped"]
    sent = 0
    for i, milestone in enumerate(steps):  # 4 forward, by reference and by id
        ref = "FS-77" if i % 2 else factory.frame_id
        assert post(client, factory, {"work_item": ref, "milestone": milestone},
                    webhook_id=f"fwd-{i}").status_code == 202  # fmt: skip
        sent += 1
    for i in range(20):  # late and repeated singles: nothing moves, no outbox row
        late = {"work_item": "FS-77", "milestone": steps[i % len(steps)]}
        assert post(client, factory, late, webhook_id=f"late-{i}").status_code == 202
        sent += 1
    batch = [{"work_item": "FS-77", "milestone": steps[i % len(steps)]} for i in range(9)]
    for i in range(2):  # batches of late events
        assert post(client, factory, {"events": batch}, webhook_id=f"batch-{i}").status_code == 202
        sent += len(batch)
    # A retry of a delivery already answered is not a new event.
    assert post(client, factory, {"events": batch}, webhook_id="batch-0").status_code == 200
    assert sent == 42
    assert counters.delta(ACCEPTED) == 42
