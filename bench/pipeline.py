"""The notification pipeline on PostgreSQL + Redis: ingest, end to end, throughput, memory.

    python bench/pipeline.py [--database-url postgresql://postgres@127.0.0.1:5432/chaincollab_bench]
                             [--redis-url redis://127.0.0.1:6379/10]
                             [--only ingest|e2e|throughput|memory] [--groups 20000]
                             [--ingest-events 20000] [--ingest-rounds 3] [--e2e-seconds 60]
                             [--e2e-rate 200] [--throughput-events 20000]
                             [--memory-jobs 100000] [--profile]

The database's schema is dropped and rebuilt with Alembic; Redis db 10 is flushed (only it).
A chain is set up through the domain functions: --factories factories with their webhook
secrets, 20 dealers, and --groups customers, each with one order of one work item (at factory
i mod --factories) and so one delivery group, each group with one `wecom_robot` channel
(customer_facing=False, the chain's quiet hours NULL) pointing at a local robot receiver: an
asyncio HTTP server in a process of its own answering `{"errcode":0,"errmsg":"ok"}`.

Every event is a real milestone advance (no late ones): work items are taken round-robin, so
a group hears again only after every other group has, far apart from the 10 s coalescing
window (kept at its default). When the items run out of milestones they are all put back to
`received` by a direct UPDATE between measurements. Events carry a note `bench<n>`, unique in
the run, that the receiver finds in the pushed markdown: that is how arrivals are matched.

The web is gunicorn serving bench/pipeline_app.py (the app from create_app() plus one route,
`POST /bench/ceiling`: one INSERT of the request into a bench table + commit) with --web-workers
2 processes of the `gthread` class with --web-threads 4: a process per core, since the GIL
lets one process use one core; threads in each so a request waiting on PostgreSQL's commit
does not idle the core; and gthread keeps connections alive (the sync class closes each). The
load generator pre-builds every signed request (unique webhook-id, a fresh timestamp) before
the clock starts and writes raw HTTP/1.1 over --connections keep-alive connections from one
asyncio loop, so it takes little of the two cores.

  ingest      no workers run (jobs queue up in Redis). Timed after a warm-up, --ingest-rounds
              times back to back: the ceiling route with the same requests; the progress
              webhook, one event a request; the same in batches of --batch-size events a
              request. events/s, p50/p99 latency, and webhook / ceiling each round and their
              median (the ceiling waits on the disk's commits, which vary from minute to
              minute on a shared machine). After each round the queued jobs are flushed and
              the outbox marked done (messages planned, rows done).
  e2e         2 `flask --app wsgi worker` processes run. --e2e-rate events/s for --e2e-seconds
              (open loop: event i is sent at i/rate s), each to another group. Latency = the
              receiver's arrival time - the time the request was written; and the CPU the
              web, the workers and PostgreSQL spent per event while it was sent.
  throughput  workers stopped, --throughput-events events are posted (their jobs queue up);
              then 2 workers are started and timed until the receiver has them all. Baseline
              in the same run: RQ's default forking `rq worker` (2 processes, --burst) on
              --baseline-jobs no-op jobs (`os.getpid`); and, for scale, the same no-ops on the
              pipeline's own worker (RQ's SimpleWorker). --profile then runs one worker
              in-process under cProfile on --profile-events more and prints where time goes.
  memory      one worker runs --memory-jobs jobs, --memory-sample at a time: pushes for the
              bench's channels (real claims, nothing due) and the drain of 100 real events
              per lot, delivered; its VmRSS (/proc/<pid>/status) is read after each lot.

It prints the figures and never asserts on time; it exits non-zero when a request is refused,
or a notification does not reach the group or the receiver exactly once.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import hmac
import io
import json
import os
import platform
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
import sqlalchemy
from import_directory import describe_database
from pipeline_app import CEILING
from pipeline_http import RobotReceiver, request_bytes, send_all
from rq import Queue, SimpleWorker, Worker
from schema import migrated
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from service.app import create_app
from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.models import Chain
from service.chain.organisations import add_organisation
from service.channels.channels import create_channel
from service.channels.models import Channel, Delivery, DeliveryState
from service.channels.urls import validate_channel_url
from service.config import Config
from service.customers.customers import add_customer
from service.groups.models import Message
from service.notify.models import OutboxEvent
from service.orders.models import Order, WorkItem
from service.orders.orders import ItemRequest, place_order
from service.progress.milestones import MILESTONES
from service.progress.models import TimelineEntry

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = ROOT / ".venv" / "bin"
QUEUE = "pipeline-bench"
NOOP_QUEUE = "bench-noop"
DEALERS = 20
SETUP_BATCH = 250  # orders placed per commit while setting up
WARM_UP = 1000  # requests sent to a freshly started server before the clock starts
ADVANCES = len(MILESTONES) - 1  # an item can move forward this many times from `received`


# Setting up


@dataclass
class Item:
    id: str
    factory: int  # index into World.factories


@dataclass
class World:
    chain_id: uuid.UUID
    factories: list[tuple[str, str]]  # (id, webhook secret)
    items: list[Item]


def fresh_schema(url: str) -> None:
    url = Config(database_url=url).sqlalchemy_url
    migrated(url)
    engine = sqlalchemy.create_engine(url)
    CEILING.create(engine)
    engine.dispose()


def build_world(app, receiver_url: str, *, groups: int, factories: int) -> World:
    """Through the domain functions, as a brand would set its chain up."""
    db, policy = app.extensions["db"], app.extensions["pipeline"].settings.policy
    with db.session() as session:
        chain, _ = create_chain(session, name="Acme Home 爱克美家居")
        session.get(Chain, chain.id).quiet_hours_start = None
        session.get(Chain, chain.id).quiet_hours_end = None
        made = [
            add_organisation(session, chain_id=chain.id, kind="factory", name=f"生产基地 {i + 1}")
            for i in range(factories)
        ]
        factory_list = [(str(f.id), secret) for f, secret in made]
        dealers = []
        for i in range(DEALERS):
            dealer, _ = add_organisation(
                session, chain_id=chain.id, kind="dealer", name=f"旗舰店 {i + 1}"
            )
            owner = add_member(
                session, chain_id=chain.id, organisation_id=dealer.id, name="王芳", role="admin"
            )
            dealers.append((dealer.id, owner.id))
        session.commit()
        chain_id = chain.id
    items = []
    for start in range(0, groups, SETUP_BATCH):
        with db.session() as session:
            for n in range(start, min(start + SETUP_BATCH, groups)):
                order = _customer_with_order(
                    session, chain_id, n, dealers[n % DEALERS], made[n % factories][0].id,
                    receiver_url, policy,
                )  # fmt: skip
                items.append(Item(str(order.items[0].id), n % factories))
            session.commit()
    return World(chain_id, factory_list, items)


def _customer_with_order(session, chain_id, n, dealer, factory_id, receiver_url, policy) -> Order:
    dealer_id, owner_id = dealer
    customer, _ = add_customer(
        session, chain_id=chain_id, name=f"客户 {n}", mobile=f"139{n:08d}",
        dealer_id=dealer_id, owner_member_id=owner_id,
    )  # fmt: skip
    order, group, _ = place_order(
        session, chain_id=chain_id, customer_id=customer.id, dealer_id=dealer_id,
        reference=f"SO-{n:06d}", items=[ItemRequest(factory_id, "衣柜 wardrobe", 1)],
    )  # fmt: skip
    create_channel(
        session, chain_id=chain_id, group_id=group.id, type="wecom_robot",
        url=validate_channel_url(receiver_url, policy), customer_facing=False,
    )  # fmt: skip
    return order


def settle(app, redis_client: redis.Redis) -> None:
    """Forget what is queued and owed: the next measurement starts from an empty pipeline."""
    with app.extensions["db"].session() as session:
        session.execute(
            update(OutboxEvent).where(OutboxEvent.done_at.is_(None)).values(done_at=func.now())
        )
        session.execute(
            update(Message).where(Message.planned_at.is_(None)).values(planned_at=func.now())
        )
        session.commit()
    redis_client.flushdb()


# Events


@dataclass
class Event:
    token: int  # the note "bench<token>"
    item: Item
    milestone: str


class Events:
    """Milestone advances, taking the work items round-robin."""

    def __init__(self, app, world: World):
        self.app, self.world = app, world
        self.reached = [0] * len(world.items)  # index into MILESTONES
        self.next_item = 0
        self.token = 0

    def take(self, count: int) -> list[Event]:
        """`count` advances; call between measurements (it may reset every item first)."""
        items = len(self.world.items)
        if count > items * ADVANCES:
            raise ValueError(f"{count} events need more than {items} work items")
        picks = [(self.next_item + k) % items for k in range(count)]
        if any(self.reached[i] + n > ADVANCES for i, n in Counter(picks).items()):
            self._reset()
        self.next_item = (self.next_item + count) % items
        events = []
        for index in picks:
            self.reached[index] += 1
            self.token += 1
            milestone = MILESTONES[self.reached[index]]
            events.append(Event(self.token, self.world.items[index], milestone))
        return events

    def _reset(self) -> None:
        with self.app.extensions["db"].session() as session:
            session.execute(update(WorkItem).values(milestone=MILESTONES[0]))
            session.execute(update(Order).values(milestone=MILESTONES[0]))
            session.commit()
        self.reached = [0] * len(self.world.items)


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature, as a factory computes it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed(world: World, factory: int, payload: dict, path: str, host: str) -> bytes:
    factory_id, secret = world.factories[factory]
    body = json.dumps(payload).encode()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }
    return request_bytes(host, path.format(factory_id=factory_id), headers, body)


def _payload(event: Event) -> dict:
    return {"work_item": event.item.id, "milestone": event.milestone, "note": f"bench{event.token}"}


WEBHOOK = "/webhooks/factories/{factory_id}/progress"


def single_requests(world: World, events: list[Event], host: str, path=WEBHOOK) -> list[bytes]:
    return [signed(world, e.item.factory, _payload(e), path, host) for e in events]


def batch_requests(world: World, events: list[Event], host: str, size: int) -> list[bytes]:
    by_factory: dict[int, list[Event]] = {}
    for event in events:
        by_factory.setdefault(event.item.factory, []).append(event)
    requests = []
    for factory, theirs in by_factory.items():
        for start in range(0, len(theirs), size):
            payload = {"events": [_payload(e) for e in theirs[start : start + size]]}
            requests.append(signed(world, factory, payload, WEBHOOK, host))
    return requests


# Processes: gunicorn and workers


class Services:
    """gunicorn and `flask --app wsgi worker` processes, with the bench's environment."""

    def __init__(self, args, instance: str):
        self.args = args
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.logs = Path(instance)
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}:{BENCH}",
            "QUEUE_NAME": QUEUE,
        }
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen:
        out = open(self.logs / log, "ab")  # noqa: SIM115 - kept open for the process's life
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def start_web(self) -> None:
        if self.web is not None:
            return
        self.web = self._spawn(
            [
                str(BIN / "gunicorn"), "--chdir", str(BENCH), "-b", self.host,
                "-w", str(self.args.web_workers), "-k", "gthread",
                "--threads", str(self.args.web_threads), "--backlog", "2048",
                "--keep-alive", "30", "pipeline_app:app",
            ],
            "gunicorn.log",
        )  # fmt: skip
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.host}/bench/ready", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.logs / 'gunicorn.log'}")

    def start_workers(self, count: int, redis_client: redis.Redis) -> list[int]:
        argv = [str(BIN / "flask"), "--app", "wsgi", "worker"]
        self.workers = [self._spawn(argv, f"worker-{i}.log") for i in range(count)]
        queue = Queue(QUEUE, connection=redis_client)
        deadline = time.time() + 60
        while len(Worker.all(queue=queue)) < count:
            if time.time() > deadline:
                raise RuntimeError(f"workers did not start; see {self.logs}/worker-*.log")
            time.sleep(0.05)
        return [w.pid for w in self.workers]

    def stop_workers(self) -> None:
        for process in self.workers:
            process.send_signal(signal.SIGTERM)  # RQ's warm shutdown: the current job ends
        for process in self.workers:
            _wait_or_kill(process)
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.web is not None:
            self.web.send_signal(signal.SIGTERM)
            _wait_or_kill(self.web)
            self.web = None


def _wait_or_kill(process: subprocess.Popen) -> None:
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# CPU: what each event costs, whatever else the machine is doing


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _bench_backends(database: str) -> list[int]:
    """PostgreSQL's backends serving `database` ("postgres: USER DATABASE HOST(PORT) …"):
    that database's only, not those of another run's database on the same server."""
    name = f" {database} ".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if name in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class CpuMeter:
    """CPU seconds spent by the bench's gunicorn workers, pipeline workers, and PostgreSQL
    backends on the bench database between start() and stop(): figures that other load on
    the machine changes far less than it changes rates."""

    def __init__(self, services: Services):
        self.services = services

    def _pids(self) -> dict[str, list[int]]:
        return {
            "web": _children(self.services.web.pid) if self.services.web else [],
            "workers": [w.pid for w in self.services.workers],
            "postgres": _bench_backends(make_url(self.services.args.database_url).database),
        }

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pids in self._pids().values() for pid in pids}

    def stop(self) -> dict[str, float]:
        return {
            name: sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids)
            for name, pids in self._pids().items()
        }


def cpu_per_event(spent: dict[str, float], events: int) -> str:
    parts = [f"{name} {seconds * 1000 / events:.2f}" for name, seconds in spent.items() if seconds]
    return (
        "CPU ms/event: " + ", ".join(parts) + f" (total {sum(spent.values()) * 1000 / events:.2f})"
    )


# Figures


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Run:
    label: str
    requests: int
    events: int
    seconds: float
    latencies: list[float]  # seconds, one per request
    cpu: dict[str, float]  # CPU seconds spent, by whom

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    def row(self) -> str:
        return (
            f"  {self.label:<36}{self.requests:>9,}{self.events:>9,}{self.seconds:>8.1f}"
            f"{self.events_per_second:>10,.0f}{quantile(self.latencies, 0.5) * 1000:>8.1f}"
            f"{quantile(self.latencies, 0.99) * 1000:>8.1f}"
            f"{self.cpu['web'] * 1000 / self.events:>8.2f}"
            f"{self.cpu['postgres'] * 1000 / self.events:>8.2f}"
        )


HEADER = (
    f"  {'':<36}{'requests':>9}{'events':>9}{'s':>8}{'events/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
    f"{'web CPU':>8}{'PG CPU':>8}  (CPU: ms per event)"
)


@dataclass
class Bench:
    args: argparse.Namespace
    app: object
    world: World
    events: Events
    services: Services
    receiver: RobotReceiver
    redis: redis.Redis
    problems: list[str] = field(default_factory=list)

    def post(self, label: str, requests: list[bytes], events: int, *, rate=None) -> tuple:
        """Send requests to gunicorn; every one must be accepted (202)."""
        meter = CpuMeter(self.services)
        meter.start()
        answers, seconds = send_all(
            "127.0.0.1", self.services.port, requests,
            connections=self.args.connections, rate=rate,
        )  # fmt: skip
        cpu = meter.stop()
        refused = [a for a in answers if a.status != 202]
        if refused or len(answers) != len(requests):
            first = refused[0] if refused else None
            self.problems.append(
                f"{label}: {len(refused)} of {len(requests)} requests not accepted"
                + (f" (first: {first.status} {first.body[:200]!r})" if first else "")
            )
        latencies = [a.seconds for a in answers]
        return Run(label, len(requests), events, seconds, latencies, cpu), answers

    def notifications(self) -> int:
        with self.app.extensions["db"].session() as session:
            return session.scalar(
                select(func.count()).select_from(Message).where(Message.kind == "notification")
            )

    def factory_entries(self) -> tuple[int, int]:
        """Timeline entries the factories' events made: (all, late)."""
        with self.app.extensions["db"].session() as session:
            entries = select(func.count()).select_from(TimelineEntry)
            entries = entries.where(TimelineEntry.actor.like("factory:%"))
            return (
                session.scalar(entries),
                session.scalar(entries.where(TimelineEntry.late.is_(True))),
            )

    def check_arrivals(self, label: str, events: list[Event], arrivals) -> dict[int, float]:
        """Each event's notification arrived exactly once; returns token → arrival time."""
        first: dict[int, float] = {}
        duplicates = 0
        for at, tokens in arrivals:
            for token in tokens:
                if token in first:
                    duplicates += 1
                else:
                    first[token] = at
        missing = sum(1 for e in events if e.token not in first)
        strays = len(first) - (len(events) - missing)
        if missing or duplicates or strays:
            self.problems.append(
                f"{label}: {missing} missing, {duplicates} duplicate, {strays} unexpected "
                f"notifications at the receiver (of {len(events)})"
            )
        return first


# Ingest


def run_ingest(bench: Bench) -> None:
    args, services = bench.args, bench.services
    services.start_web()
    host = services.host
    warm = bench.events.take(WARM_UP)
    bench.post("warm-up", single_requests(bench.world, warm, host), len(warm))
    bench.post("warm-up", single_requests(bench.world, warm, host, "/bench/ceiling"), len(warm))

    print(
        f"\nIngest: gunicorn gthread {args.web_workers} workers x {args.web_threads} threads, "
        f"{args.connections} keep-alive connections, no pipeline workers running; "
        f"{args.ingest_rounds} rounds of ceiling, one event a request, a batch a request"
    )
    print(HEADER)
    singles, batches = [], []
    for _ in range(args.ingest_rounds):
        single, batched = _ingest_round(bench, host)
        singles.append(single)
        batches.append(batched)
    print(
        f"  webhook / ceiling, round by round: {', '.join(f'{r:.0%}' for r in singles)}; "
        f"median {statistics.median(singles):.0%} (target >= 50 %)"
    )
    print(
        f"  batched / ceiling: {', '.join(f'{r:.0%}' for r in batches)}; "
        f"median {statistics.median(batches):.0%}"
    )


def _ingest_round(bench: Bench, host: str) -> tuple[float, float]:
    """The ceiling, then the webhook with the same events one a request, then in batches, back
    to back: the machine's state (a slow disk's commits) weighs on all three alike. Returns
    webhook / ceiling and batched / ceiling."""
    args = bench.args
    events = bench.events.take(args.ingest_events)
    ceiling, _ = bench.post(
        "ceiling: one INSERT + commit",
        single_requests(bench.world, events, host, "/bench/ceiling"),
        len(events),
    )
    before = bench.notifications()
    entries_before, late_before = bench.factory_entries()
    webhook, _ = bench.post(
        "progress webhook, 1 event/request", single_requests(bench.world, events, host), len(events)
    )
    batch_events = bench.events.take(args.ingest_events)
    batched, _ = bench.post(
        f"progress webhook, {args.batch_size} events/request",
        batch_requests(bench.world, batch_events, host, args.batch_size),
        len(batch_events),
    )
    stored = bench.notifications() - before
    entries_after, late_after = bench.factory_entries()
    entries, late = entries_after - entries_before, late_after - late_before
    # Many connections deliver out of order: an item's next step may overtake this one, which
    # is then kept as late and tells nobody (as it should). Every event must be in the
    # timeline once, and every one not late must have told its group.
    if entries != len(events) + len(batch_events) or stored != entries - late:
        bench.problems.append(
            f"ingest: {entries} timeline entries ({late} late) and {stored} notifications "
            f"for {len(events) + len(batch_events)} events"
        )
    queued = Queue(QUEUE, connection=bench.redis).count
    settle(bench.app, bench.redis)
    for run in (ceiling, webhook, batched):
        print(run.row())
    print(
        f"  {stored:,} notifications stored, {late:,} events overtaken on the wire and kept as "
        f"late; {queued:,} jobs were queued (flushed after)"
    )
    rate = ceiling.events_per_second
    return webhook.events_per_second / rate, batched.events_per_second / rate


# End to end


def run_e2e(bench: Bench) -> None:
    args, services = bench.args, bench.services
    services.start_web()
    count = int(args.e2e_rate * args.e2e_seconds)
    spacing = len(bench.world.items) / args.e2e_rate  # seconds between two events of a group
    events = bench.events.take(count)
    requests = single_requests(bench.world, events, services.host)
    services.start_workers(2, bench.redis)
    bench.receiver.take()
    before = bench.notifications()
    run, answers = bench.post("e2e", requests, count, rate=args.e2e_rate)
    bench.receiver.wait_for(count, stall_seconds=args.stall_seconds)
    arrivals = bench.receiver.take()
    services.stop_workers()
    stored = bench.notifications() - before
    if stored != count:
        bench.problems.append(f"e2e: {stored} notifications in the groups for {count} events")
    arrived = bench.check_arrivals("e2e", events, arrivals)
    sent_at = {events[a.index].token: a.sent_at for a in answers}
    latencies = [arrived[t] - sent_at[t] for t in arrived if t in sent_at]
    settle(bench.app, bench.redis)

    print(
        f"\nEnd to end: {args.e2e_rate:g} events/s for {args.e2e_seconds:g} s, each to its own "
        f"group; 2 workers; default coalescing window"
    )
    if count > len(bench.world.items):
        print(f"  a group hears again after {spacing:.0f} s ({len(bench.world.items):,} groups)")
    print(
        f"  sent in {run.seconds:.1f} s ({run.events_per_second:,.0f}/s; webhook p50 "
        f"{quantile(run.latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {quantile(run.latencies, 0.99) * 1000:.1f} ms); "
        f"{stored:,} in the groups; {len(arrived):,} of {count:,} at the receiver"
    )
    print(
        "  posted -> received by the robot: "
        + ", ".join(
            f"{name} {quantile(latencies, q) * 1000:,.0f} ms"
            for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        )
    )
    print("  " + cpu_per_event(run.cpu, count) + " (workers: until the last event was sent)")


# Throughput


def run_throughput(bench: Bench) -> None:
    args, services = bench.args, bench.services
    services.start_web()
    events = bench.events.take(args.throughput_events)
    loading, _ = bench.post(
        "pre-load", single_requests(bench.world, events, services.host), len(events)
    )
    queued = Queue(QUEUE, connection=bench.redis).count
    time.sleep(max(0.0, 11 - loading.seconds))  # past any group's coalescing window
    bench.receiver.take()
    meter = CpuMeter(services)
    meter.start()
    started = time.time()
    services.start_workers(2, bench.redis)
    ready = time.time()
    last = bench.receiver.wait_for(len(events), stall_seconds=args.stall_seconds)
    cpu = meter.stop()
    arrivals = bench.receiver.take()
    services.stop_workers()
    bench.check_arrivals("throughput", events, arrivals)
    delivered = _delivered(bench.app)
    first = min((at for at, _ in arrivals), default=last)
    settle(bench.app, bench.redis)

    forking = rq_baseline(bench, forking=True)
    simple = rq_baseline(bench, forking=False)
    rate = len(events) / (last - started)
    print(f"\nPipeline throughput: {len(events):,} events pre-loaded, then 2 workers")
    print(f"  pre-load: {loading.events_per_second:,.0f} events/s posted; {queued:,} jobs queued")
    print(
        f"  {sum(len(t) for _, t in arrivals):,} notifications at the receiver, "
        f"{delivered:,} deliveries recorded delivered"
    )
    print(
        f"  pipeline, 2 workers:           {rate:>8,.0f} notifications/s "
        f"(workers started -> last arrival {last - started:.1f} s; of which startup "
        f"{ready - started:.1f} s; first -> last arrival "
        f"{len(events) / max(last - first, 1e-9):,.0f}/s) (target >= 1,000/s)"
    )
    print(
        f"  CPU ms per notification: workers {cpu['workers'] * 1000 / len(events):.2f} "
        f"(incl. startup), PostgreSQL {cpu['postgres'] * 1000 / len(events):.2f}"
    )
    print(f"  baseline rq.Worker (forking), 2: {forking:>8,.0f} no-op jobs/s")
    print(f"  RQ SimpleWorker (the pipeline's), 2: {simple:>8,.0f} no-op jobs/s")
    print(f"  pipeline / forking rq.Worker no-ops: {rate / forking:.1f}x")
    if args.profile:
        profile_worker(bench)


def _delivered(app) -> int:
    with app.extensions["db"].session() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.state == DeliveryState.DELIVERED)
        )


def rq_baseline(bench: Bench, *, forking: bool) -> float:
    """No-op jobs/s of 2 burst workers: RQ's default `rq worker` (a fork per job), or the
    pipeline's own worker class (RQ's SimpleWorker, jobs in the worker's process)."""
    jobs = bench.args.baseline_jobs * (1 if forking else 10)
    queue = Queue(NOOP_QUEUE, connection=bench.redis)
    with bench.redis.pipeline() as pipe:
        for _ in range(jobs):
            queue.enqueue("os.getpid", result_ttl=0, pipeline=pipe)
        pipe.execute()
    url = bench.args.redis_url
    if forking:
        argv = [str(BIN / "rq"), "worker", "--burst", "--url", url, "-q", NOOP_QUEUE]
    else:
        argv = [str(BIN / "flask"), "--app", "wsgi", "worker", "--burst", "--queue", NOOP_QUEUE]
    started = time.perf_counter()
    workers = [bench.services._spawn(argv, "baseline.log") for _ in range(2)]
    for worker in workers:
        worker.wait()
    seconds = time.perf_counter() - started
    if queue.count:
        bench.problems.append(f"baseline: {queue.count} no-op jobs left undone")
    bench.redis.flushdb()
    return jobs / seconds


def profile_worker(bench: Bench) -> None:
    """One worker, in this process, under cProfile, on pre-loaded events."""
    events = bench.events.take(bench.args.profile_events)
    bench.post("profile pre-load", single_requests(bench.world, events, bench.services.host), 0)
    time.sleep(11)
    bench.receiver.take()
    queue = bench.app.extensions["pipeline"].queue
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with bench.app.app_context():
        profiler.enable()
        SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
        profiler.disable()
    seconds = time.perf_counter() - started
    bench.receiver.wait_for(len(events), stall_seconds=bench.args.stall_seconds)
    bench.check_arrivals("profile", events, bench.receiver.take())
    settle(bench.app, bench.redis)
    print(
        f"\nProfile: one worker in-process, {len(events):,} events in {seconds:.1f} s "
        f"({len(events) / seconds:,.0f}/s under the profiler)"
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print("\n".join(out.getvalue().splitlines()[6:34]))


# Memory


def run_memory(bench: Bench) -> None:
    """One worker runs --memory-jobs jobs: in each lot of --memory-sample, pushes for the
    bench's channels (each a real claim: nothing is due, so a few queries) and a drain for a
    hundred real events, delivered. Its VmRSS is read after each lot."""
    args, services = bench.args, bench.services
    services.start_web()
    [pid] = services.start_workers(1, bench.redis)
    with bench.app.extensions["db"].session() as session:
        channel_ids = [str(c) for c in session.scalars(select(Channel.id))]
    queue = Queue(QUEUE, connection=bench.redis)
    samples = [(0, rss_kib(pid))]
    done = 0
    while done < args.memory_jobs:
        lot = min(args.memory_sample, args.memory_jobs - done)
        events = bench.events.take(100)
        bench.receiver.take()
        bench.post("memory", single_requests(bench.world, events, services.host), len(events))
        with bench.redis.pipeline() as pipe:
            for n in range(lot):
                push = channel_ids[(done + n) % len(channel_ids)]
                queue.enqueue("jobs.pipeline.push", push, result_ttl=0, pipeline=pipe)
            pipe.execute()
        bench.receiver.wait_for(len(events), stall_seconds=args.stall_seconds)
        bench.check_arrivals(f"memory, jobs {done:,}+", events, bench.receiver.take())
        while queue.count or queue.started_job_registry.count:
            time.sleep(0.2)
        done += lot
        samples.append((done, rss_kib(pid)))
    services.stop_workers()
    settle(bench.app, bench.redis)

    print(f"\nWorker memory: one worker, VmRSS after every {args.memory_sample:,} jobs")
    for jobs, kib in samples:
        print(f"  {jobs:>9,} jobs  {kib / 1024:>7.1f} MiB")
    if len(samples) > 2:
        (first_jobs, first), (last_jobs, last) = samples[1], samples[-1]
        print(
            f"  growth from {first_jobs:,} to {last_jobs:,} jobs: {(last - first) / 1024:+.1f} MiB "
            f"({(last - first) / first:+.1%}; "
            f"{(last - first) * 1024 / (last_jobs - first_jobs):+.0f} bytes/job)"
        )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# Main

PARTS = ("ingest", "e2e", "throughput", "memory")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/chaincollab_bench",
        help="PostgreSQL; its schema is dropped, so its name must contain 'bench' or 'test'",
    )
    add("--redis-url", default="redis://127.0.0.1:6379/10", help="its db is flushed")
    add("--only", choices=PARTS, action="append", help="run this part (repeatable); default all")
    add("--groups", type=int, default=20_000, help="customers, each with a group and a channel")
    add("--factories", type=int, default=40)
    add("--connections", type=int, default=16, help="keep-alive connections of the load")
    add("--web-workers", type=int, default=2)
    add("--web-threads", type=int, default=4)
    add("--ingest-events", type=int, default=20_000, help="per ingest figure")
    add("--batch-size", type=int, default=10, help="events per request, batched form")
    add("--ingest-rounds", type=int, default=3, help="ceiling / webhook / batched, repeated")
    add("--e2e-rate", type=float, default=200)
    add("--e2e-seconds", type=float, default=60)
    add("--throughput-events", type=int, default=20_000)
    add("--baseline-jobs", type=int, default=2_000, help="no-op jobs for forking rq.Worker")
    add("--profile", action="store_true", help="cProfile one worker after the throughput")
    add("--profile-events", type=int, default=3_000)
    add("--memory-jobs", type=int, default=100_000)
    add("--memory-sample", type=int, default=10_000, help="jobs between RSS samples")
    add("--stall-seconds", type=float, default=30,
        help="give up waiting for arrivals after this long without one")  # fmt: skip
    args = parser.parse_args(argv)
    name = make_url(args.database_url).database or ""
    if "bench" not in name and "test" not in name:
        parser.error("--database-url: the bench drops its schema; the name must say bench/test")
    return args


@contextmanager
def bench_environment(args) -> object:
    """The variables create_app reads, for this process and the servers it starts."""
    # Kept after the run: the logs of the web, the workers and the baselines are in it.
    instance = tempfile.mkdtemp(prefix="chain-collab-pipeline-")
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        QUEUE_NAME=QUEUE,
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
        SECRET_KEY="bench-pipeline",
        INSTANCE_PATH=instance,
    )
    yield instance


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = args.only or PARTS
    receiver = RobotReceiver()  # forked before any connection is opened
    with bench_environment(args) as instance:
        redis_client = redis.Redis.from_url(args.redis_url)
        redis_client.flushdb()
        fresh_schema(args.database_url)
        app = create_app()
        began = time.perf_counter()
        world = build_world(app, receiver.url, groups=args.groups, factories=args.factories)
        settle(app, redis_client)
        print(
            f"Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
            f"{os.cpu_count()} CPUs; {describe_database(app.extensions['db'])}; "
            f"Redis {redis_client.info()['redis_version']}"
        )
        print(
            f"{args.groups:,} groups (one channel, one work item each) at {args.factories} "
            f"factories, set up in {time.perf_counter() - began:.0f} s; logs in {instance}"
        )
        services = Services(args, instance)
        bench = Bench(args, app, world, Events(app, world), services, receiver, redis_client)
        runs = {"ingest": run_ingest, "e2e": run_e2e, "throughput": run_throughput,
                "memory": run_memory}  # fmt: skip
        try:
            for part in PARTS:
                if part in parts:
                    runs[part](bench)
                    sys.stdout.flush()
        finally:
            services.stop()
            receiver.close()
            app.extensions["db"].engine.dispose()
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if bench.problems:
        print("\nNOT AS EXPECTED:\n  " + "\n  ".join(bench.problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
