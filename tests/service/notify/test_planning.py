"""Planning hands each outbox topic to its consumer: a message is owed to its group's
channels, a resumed channel or a retried delivery has its channel pushed, and a row of a topic
no one consumes is marked done, with a warning, so that the sweeper does not bring it back."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from service.channels.channels import create_channel, retry_delivery, update_channel
from service.channels.models import Delivery, DeliveryState
from service.channels.urls import OutboundPolicy, validate_channel_url
from service.config import Config
from service.groups.messages import post_system_message
from service.notify import topics
from service.notify.models import OutboxEvent
from service.notify.outbox import emit
from service.notify.planning import CONSUMERS, plan
from tests.one_order import place_one_order

LOOPBACK = OutboundPolicy.from_config(Config(outbound_allowed_networks=("127.0.0.0/8",)))


@pytest.fixture
def placed(session):
    return place_one_order(session, [("Foshan", "Sofa frame", 1, "FS-77")])


@pytest.fixture
def channel(session, placed):
    plan(session)  # the order's welcome: history
    made, _ = create_channel(
        session,
        chain_id=placed.chain.id,
        group_id=placed.group.id,
        type="slack",
        url=validate_channel_url("http://127.0.0.1:9/hook", LOOPBACK),
    )
    return made


def pending(session, topic: str) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == topic, OutboxEvent.done_at.is_(None))
        )
    )


def test_every_topic_a_builder_writes_has_a_consumer():
    written = {topics.CHANNEL_RESUMED, topics.DELIVERY_RETRIED}
    assert set(CONSUMERS) == written


def post(session, placed):
    return post_system_message(session, group=placed.group, kind="notice", text="Shipped")


def test_a_message_is_owed_to_its_groups_channels_and_they_are_pushed(session, placed, channel):
    message = post(session, placed)
    assert plan(session) == ({channel.id}, 1)
    owed = session.scalars(select(Delivery).where(Delivery.channel_id == channel.id)).all()
    assert [d.message_id for d in owed] == [message.id]
    assert plan(session) == (set(), 0)


def test_resuming_a_channel_writes_channel_resumed_and_planning_pushes_it(session, placed, channel):
    update_channel(session, chain_id=placed.chain.id, channel_id=channel.id, state="paused")
    assert pending(session, topics.CHANNEL_RESUMED) == []
    update_channel(session, chain_id=placed.chain.id, channel_id=channel.id, state="active")
    [row] = pending(session, topics.CHANNEL_RESUMED)
    assert row.payload == {"channel_id": str(channel.id)}
    assert plan(session) == ({channel.id}, 1)
    assert pending(session, topics.CHANNEL_RESUMED) == []


def test_retrying_a_delivery_writes_delivery_retried_and_planning_pushes_its_channel(
    session, placed, channel
):
    post(session, placed)
    plan(session)
    delivery = session.scalar(select(Delivery).where(Delivery.channel_id == channel.id))
    delivery.state = DeliveryState.FAILED
    retry_delivery(
        session, chain_id=placed.chain.id, channel_id=channel.id, delivery_id=delivery.id
    )
    [row] = pending(session, topics.DELIVERY_RETRIED)
    assert row.payload == {"channel_id": str(channel.id), "delivery_id": str(delivery.id)}
    assert plan(session) == ({channel.id}, 1)


def test_a_row_no_one_consumes_is_marked_done_with_a_warning(session, placed, channel, caplog):
    old = emit(session, {"chain_id": placed.chain.id, "topic": "no.one.reads", "payload": {}})
    with caplog.at_level(logging.WARNING, logger="service.notify.planning"):
        assert plan(session) == (set(), 1)
    session.refresh(old)
    assert old.done_at is not None
    assert "no.one.reads" in caplog.text
