"""The outbox's topics: one builder per topic, each returning the row to emit, so that what a
topic carries is written down once. A topic is written only if planning has a consumer for it
(planning.CONSUMERS). A message needs no row: it is its own outbox entry (see
service.notify.outbox)."""

from __future__ import annotations

import uuid
from typing import TypedDict

CHANNEL_RESUMED = "channel.resumed"
DELIVERY_RETRIED = "delivery.retried"


class OutboxRow(TypedDict):
    chain_id: uuid.UUID
    topic: str
    payload: dict


def channel_resumed(chain_id: uuid.UUID, channel_id: uuid.UUID) -> OutboxRow:
    """A channel resumed by its brand: what it held while paused is pushed now."""
    return {
        "chain_id": chain_id,
        "topic": CHANNEL_RESUMED,
        "payload": {"channel_id": str(channel_id)},
    }


def delivery_retried(
    chain_id: uuid.UUID, channel_id: uuid.UUID, delivery_id: uuid.UUID
) -> OutboxRow:
    """A delivery the brand asked to send again now: its channel is pushed."""
    return {
        "chain_id": chain_id,
        "topic": DELIVERY_RETRIED,
        "payload": {"channel_id": str(channel_id), "delivery_id": str(delivery_id)},
    }
