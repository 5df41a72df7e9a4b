"""A channel's messages go in order, even when the oldest must wait; a push's leases are
sized to one push and lapse soon after its worker dies, however large its batch."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from service.channels.models import Channel, Delivery, DeliveryState, HeldFor
from service.notify.leasing import LEASE_MARGIN
from tests.pipeline.conftest import Answer, later, start_worker, wait_until


def _milestones(requests):
    return [r.json["data"]["message"]["payload"]["milestone"] for r in requests]


@pytest.mark.pipeline_config(coalesce_window_seconds=0)
@pytest.mark.parametrize(
    "answer, held_for",
    [
        (Answer(500, b"upstream broke"), HeldFor.BACKOFF),
        (Answer(429, b"slow down", headers={"Retry-After": "5"}), HeldFor.RATE_LIMIT),
    ],
    ids=["backoff", "retry-after"],
)
def test_a_newer_message_does_not_overtake_an_older_one_waiting_to_retry(
    world, receiver, answer, held_for
):
    channel_id = world.add_channel(receiver.url)
    receiver.answers.append(answer)
    world.report("shipped")
    world.run_jobs()
    assert len(receiver.wait_for(1)) == 1  # failed: waits to retry

    world.report("installed")
    world.run_jobs()
    assert len(receiver.requests) == 1  # waits behind it
    older, newer = world.deliveries(channel_id)
    assert older.state == newer.state == DeliveryState.PENDING
    assert older.held_for == newer.held_for == held_for
    assert newer.held_until == older.held_until == older.due_at

    with later(8):
        world.sweep_and_run()
    assert _milestones(receiver.wait_for(3)) == ["shipped", "shipped", "installed"]
    assert {d.state for d in world.deliveries(channel_id)} == {DeliveryState.DELIVERED}
    assert {d.held_for for d in world.deliveries(channel_id)} == {None}


CHANNELS = 100
TIMEOUT = 3.0


def test_a_dead_workers_leases_over_100_channels_lapse_within_a_timeout_and_margin(
    world, receiver, tmp_path
):
    """The bound: a lease runs one request timeout and LEASE_MARGIN from its last renewal,
    however many channels the batch holds and however many requests wait for a thread."""
    with world.session() as session:
        session.add_all(
            Channel(
                chain_id=world.chain_id,
                group_id=world.group_id,
                type="webhook",
                url=f"{receiver.url}?c={n}",
                secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=",
                customer_facing=False,
                rate_limit_per_minute=6000,
            )
            for n in range(CHANNELS)
        )
        session.commit()
    held = threading.Event()
    receiver.default = Answer(hold=held)
    worker = start_worker(world, tmp_path / "worker.log", DELIVERY_TIMEOUT_SECONDS=TIMEOUT)
    try:
        world.report("in_production")
        receiver.wait_for(16)  # one batch claimed, its first requests in flight
        time.sleep(TIMEOUT / 2)  # and renewed meanwhile
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        killed = time.time()
    finally:
        held.set()
    with world.session() as session:
        leases = [
            session.scalar(select(func.max(Channel.lease_until))),
            session.scalar(select(func.max(Delivery.lease_until))),
        ]
        last = max(lease for lease in leases if lease is not None)
        sending = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == "sending")
        )
    assert sending == CHANNELS
    bound = TIMEOUT + LEASE_MARGIN.total_seconds()
    assert last.timestamp() - killed <= bound, f"a lease runs {last.timestamp() - killed:.0f} s on"

    receiver.default = Answer()
    worker = start_worker(world, tmp_path / "worker.log", SWEEP_INTERVAL_SECONDS=1)
    try:

        def delivered():
            with world.session() as session:
                return (
                    session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(Delivery.state == "delivered")
                    )
                    == CHANNELS
                )

        wait_until(delivered, bound + 20, every=0.2)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
