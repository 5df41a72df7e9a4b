"""Nothing is lost when workers die: real workers SIGKILLed again and again while messages
flow, most of them between claiming a push and recording it."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass

import psutil
from sqlalchemy import func, select

from service.channels.models import Delivery, DeliveryState, delivery_key
from service.groups.messages import post_message
from service.groups.models import DeliveryGroup, Message
from tests.pipeline.conftest import Answer, start_worker, wait_until

MESSAGES_PER_SECOND = 4
CHANNELS = 3
KILLS = 24  # two dozen: most between claim and record, every third at random
WORKERS = 2
TIMEOUT = 2.0  # a push's request; its leases lapse this and a margin after its worker dies
SETTLE_SECONDS = 60


@dataclass
class Kill:
    at: float
    ports: set[int]  # the killed worker's connections: what it had sent came from these


class Workers:
    """Real `flask worker` processes, killed with SIGKILL (with RQ's scheduler beside each)
    and replaced."""

    def __init__(self, world, log_path):
        self.world, self.log_path = world, log_path
        self.live: list = []
        self.kills: list[Kill] = []

    def start(self):
        self.live.append(
            start_worker(
                self.world,
                self.log_path,
                DELIVERY_TIMEOUT_SECONDS=TIMEOUT,
                COALESCE_WINDOW_SECONDS=0,
                SWEEP_INTERVAL_SECONDS=3,
                OUTBOX_DEADLINE_SECONDS=2,
            )
        )

    def sender_of(self, port: int):
        for process in self.live:
            if port in _ports(process.pid):
                return process
        return None

    def kill(self, process) -> None:
        ports = _ports(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        self.kills.append(Kill(time.time(), ports))
        self.live.remove(process)
        self.start()

    def stop(self):
        for process in self.live:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _ports(pid: int) -> set[int]:
    ports = set()
    try:
        for process in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            ports |= {c.laddr.port for c in process.net_connections(kind="tcp") if c.laddr}
    except psutil.NoSuchProcess:
        pass
    return ports


def _feed(world, stop: threading.Event, posted: list) -> None:
    """Messages into the group, a few a second, until told to stop."""
    with world.session() as session:
        group = session.get(DeliveryGroup, world.group_id)
        while not stop.is_set():
            text = f"m-{len(posted)}"
            post_message(session, group=group, text=text, sender="customer")
            session.commit()
            posted.append(text)
            stop.wait(1 / MESSAGES_PER_SECOND)


def test_workers_killed_between_claim_and_record_lose_nothing(world, receiver, tmp_path):
    channel_ids = [
        world.add_channel(f"{receiver.url}?c={n}", rate_limit_per_minute=6000)
        for n in range(CHANNELS)
    ]
    workers = Workers(world, tmp_path / "workers.log")
    stop, posted = threading.Event(), []
    feeder = threading.Thread(target=_feed, args=(world, stop, posted), daemon=True)
    rng = random.Random(9)
    try:
        for _ in range(WORKERS):
            workers.start()
        feeder.start()
        while len(workers.kills) < KILLS:
            if len(workers.kills) % 3 == 2:
                # At a random moment: planning, claiming, sending, recording, idle.
                time.sleep(rng.uniform(0, 0.4))
                workers.kill(rng.choice(workers.live))
                continue
            # Between claim and record: hold the next request until its sender is dead.
            held = Answer(hold=threading.Event())
            receiver.answers.append(held)
            try:
                wait_until(lambda h=held: h.taken is not None, 30, message="no push came")
                sender = None
                deadline = time.monotonic() + 5
                while sender is None and time.monotonic() < deadline:
                    sender = workers.sender_of(held.taken.port) or time.sleep(0.01)
                if sender is not None:
                    workers.kill(sender)
            finally:
                held.hold.set()
        stop.set()
        feeder.join(30)

        states = {}

        def settled():
            with world.session() as session:
                states.clear()
                states.update(
                    session.execute(
                        select(Delivery.state, func.count()).group_by(Delivery.state)
                    ).all()
                )
            return states == {DeliveryState.DELIVERED: len(posted) * CHANNELS}

        try:
            wait_until(settled, SETTLE_SECONDS, every=0.5)
        except AssertionError:
            raise AssertionError(f"deliveries left unsettled: {states}") from None
    finally:
        stop.set()
        workers.stop()

    with world.session() as session:
        texts = Counter(
            session.scalars(
                select(Message.text).where(
                    Message.group_id == world.group_id, Message.sender == "customer"
                )
            )
        )
        deliveries = session.scalars(
            select(Delivery).where(Delivery.channel_id.in_(channel_ids))
        ).all()
    assert texts == Counter(posted)  # each once in its group
    assert {d.state for d in deliveries} == {DeliveryState.DELIVERED}  # none left sending
    keys = {delivery_key(d.id, d.replays) for d in deliveries}
    received = [r for r in receiver.requests if r.headers["webhook-id"] in keys]
    times = Counter(r.headers["webhook-id"] for r in received)
    assert set(times) == keys  # every message reached every channel
    for key in [k for k, n in times.items() if n > 1]:
        # Sent again only because the worker that sent it first died before recording it.
        first = next(r for r in received if r.headers["webhook-id"] == key)
        assert any(
            first.port in kill.ports and kill.at - 2 * TIMEOUT - 1 <= first.arrived_at <= kill.at
            for kill in workers.kills
        ), f"{key} was sent twice, but not by a worker that died with it in flight"
    assert len(workers.kills) == KILLS
