"""/metrics: the counters of every process, and a few figures read from the database, for
Prometheus to scrape. It shows counts only, no chain's data; restrict it at the proxy as usual."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from blueprints import db
from blueprints.json_errors import DATABASE_ERRORS
from service import metrics
from service.notify.outbox import waiting

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

OUTBOX_PENDING = (
    "chain_collab_outbox_pending",
    "Outbox entries not yet acted on: messages not planned, rows not done.",
)


def redis_client():
    """The app's Redis client, or None when it cannot be had (the embedded server would not
    start): what metrics.count and metrics.render take, so that counting never fails."""
    try:
        return current_app.extensions["redis"].client
    except Exception as error:
        log.warning("No Redis for metrics: %r", error)
        return None


@bp.get("/metrics")
def scrape():
    gauges = {}
    try:
        gauges[OUTBOX_PENDING] = waiting(db())
    except DATABASE_ERRORS as error:
        # The counters are in Redis: show them while the database is away.
        log.warning("No outbox gauge, the database is away: %s", error)
    body = metrics.render(redis_client(), gauges)
    return Response(body, content_type=CONTENT_TYPE_LATEST)  # it names its charset
