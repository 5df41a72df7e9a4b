"""A commit that wrote messages wakes the open chat pages of their groups: one PUBLISH per
group on Redis, sent with the commit's other news, never for a transaction rolled back."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from service.groups.messages import post_message
from service.groups.templates import create_template
from service.orders.models import Order
from service.progress.recording import record_progress
from tests.service.customers import chain_world

acme = chain_world.acme


@pytest.fixture
def groups(acme):
    create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        auto_replies=[{"keyword": "安装", "reply": "安装师傅会联系您"}],
    )
    made = [acme.order(acme.customer(name))[1] for name in ("王芳", "李娜")]
    acme.session.commit()
    return made


@pytest.fixture
def listening(bound_app, groups):
    pipeline = bound_app.extensions["pipeline"]
    pubsub = bound_app.extensions["redis"].client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*(pipeline.group_channel(g.id) for g in groups))
    yield pubsub
    pubsub.close()


def wakes(pubsub) -> list[str]:
    """The wakes published so far: a PING's answer comes after everything sent before it."""
    pubsub.ping()
    got, deadline = [], time.monotonic() + 5
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)  # None: a confirmation ignored, or nothing yet
        if message is None:
            continue
        if message["type"] == "pong":
            return got
        got.append(message["channel"].decode())
    raise AssertionError("Redis did not answer the PING")


def test_a_commit_wakes_each_group_it_wrote_in_once(bound_app, groups, listening):
    first, second = groups
    with bound_app.extensions["db"].session() as session:
        post_message(session, group=first, text="什么时候安装", sender="customer")  # + reply
        post_message(session, group=second, text="好的", sender="customer")
        session.commit()

    channel = bound_app.extensions["pipeline"].group_channel
    assert sorted(wakes(listening)) == sorted([channel(first.id), channel(second.id)])


def test_a_rolled_back_message_wakes_no_one(bound_app, groups, listening):
    with bound_app.extensions["db"].session() as session:
        post_message(session, group=groups[0], text="算了", sender="customer")
        session.rollback()
        session.commit()

    assert wakes(listening) == []


def test_a_progress_report_wakes_the_group_its_notification_is_in(
    bound_app, acme, groups, listening
):
    first, _ = groups
    with bound_app.extensions["db"].session() as session:
        order = session.scalars(select(Order).where(Order.customer_id == first.customer_id)).one()
        record_progress(session, work_item=order.items[0], milestone="shipped", actor="api")
        session.commit()

    assert wakes(listening) == [bound_app.extensions["pipeline"].group_channel(first.id)]
