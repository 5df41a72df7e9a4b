"""Open chat pages under load: 500 server-sent event streams held by gunicorn while the brand
API keeps answering, for each worker class under test.

    python bench/chat_stream.py [--database-url postgresql://…/chaincollab_bench_stream]
                                [--redis-url redis://127.0.0.1:6379/14] [--streams 500]
                                [--worker-class gevent --worker-class gthread] [--web-workers 2]
                                [--threads 400] [--worker-connections 1000] [--seconds 30]
                                [--post-rate 20] [--api-rate 30]

The database's schema is dropped and rebuilt with Alembic (its name must say bench or test);
bench/portal.py's seed is written at the scale that gives one delivery group per stream (500
groups, 50,000 messages, 500 orders for --streams 500), and the chain gets an API key.

For each worker class, gunicorn serves bench/stream_app.py (the app from create_app(), on
PostgreSQL and Redis) with --web-workers processes: `gevent`
with --worker-connections, `gthread` with --threads threads each. Then:

  wait check   20 requests at once to /bench/wait (one `SELECT pg_sleep(0.2)` each), which
               answer which wait function psycopg chose in the worker: all of them in about
               0.2 s means the database waits cooperatively (threads do that anyway);
  no streams   the brand API at a steady rate for --seconds (open loop): --api-rate
               `GET /api/v1/groups/{id}/messages?limit=20` a second and --post-rate
               `POST /api/v1/groups/{id}/messages` a second, each to a random group of the
               500: p50 / p95 / p99 of each;
  500 streams  the administrator signs in once; --streams connections open
               /portal/groups/{id}/events, one per group, and stay open; then the same API load
               as before. Each posted message carries a token `bench<n>` that its group's
               stream finds in the event's data: the delay is from the POST's response read to
               the event read (p50 / p95 / max), and every message must arrive once;
  closed       the streams are closed by the client; 35 s later (a stream learns that its
               client went away when a write fails: its second heartbeat after, 15 s apart)
               the server must have let go of their Redis subscriptions and of every database
               connection beyond its pool.

Redis clients (in pub/sub, and all of the bench's db) and PostgreSQL backends of the bench's
database are counted before, with the streams open, and after. The client is one asyncio loop
over raw sockets (HTTP/1.1 keep-alive for the API, one socket per stream); its CPU is printed
against the wall time, so that a client near a whole core would show. gunicorn's own CPU is
printed too.

It prints the figures and never asserts on time; it exits non-zero when a request fails, a
message does not arrive on its stream, or the server keeps what a closed stream held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from portal import ADMIN_EMAIL, PASSWORD, seed_bulk, seed_chain
from schema import check_droppable, migrated
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.chain.chains import issue_api_key
from service.config import Config
from service.db import Database

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
TOKEN = re.compile(rb"bench(\d+)")
CONNECTIONS = 16  # keep-alive connections of the API load
CLOSED_WAIT = 35  # seconds: two heartbeats (15 s) and a margin


# Processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Gunicorn:
    def __init__(self, args, worker_class: str, logs: Path):
        self.port = _free_port()
        self.worker_class = worker_class
        if worker_class == "gevent":
            extra = ["--worker-connections", str(args.worker_connections)]
        elif worker_class == "gthread":
            extra = ["--threads", str(args.threads)]
        else:
            extra = []
        self.argv = [
            str(BIN / "gunicorn"), "--chdir", str(BENCH), "-b", f"127.0.0.1:{self.port}",
            "-w", str(args.web_workers), "-k", worker_class, *extra,
            "--backlog", "2048", "--keep-alive", "30", "--timeout", "60", "stream_app:app",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{BENCH}"}
        out = open(logs / f"gunicorn-{worker_class}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=out, stderr=out)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/bench/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start; see {out.name}")
        time.sleep(1)  # every worker up, not only the first

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in children(self.process.pid))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What the server holds


def held(redis_client: redis.Redis, db: Database, database: str, db_number: int) -> dict:
    clients = [c for c in redis_client.client_list() if int(c.get("db", -1)) == db_number]
    with db.engine.connect() as conn:
        backends = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": database},
        )
    return {
        "redis pub/sub": sum(1 for c in clients if int(c.get("sub", 0)) or int(c.get("psub", 0))),
        "redis clients": len(clients) - 1,  # not this one
        "PostgreSQL backends": backends,
    }


def _held_text(counts: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


# The client


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _ms(values: list[float]) -> str:
    return (
        f"p50 {quantile(values, 0.5) * 1000:.0f} / p95 {quantile(values, 0.95) * 1000:.0f} / "
        f"p99 {quantile(values, 0.99) * 1000:.0f} / max {max(values, default=0) * 1000:.0f} ms"
    )


@dataclass
class Load:
    """The API requests of one phase, pre-built: (kind, token or None, request bytes)."""

    requests: list[tuple[str, int | None, bytes]]
    rate: float
    answers: list[tuple[str, int | None, int, float, float]] = field(default_factory=list)
    # kind, token, status, seconds, perf_counter when the response was read


def build_load(args, host: str, key: str, groups: list[str], first_token: int) -> Load:
    rng = random.Random(first_token)
    total = int((args.post_rate + args.api_rate) * args.seconds)
    share = args.post_rate / (args.post_rate + args.api_rate)
    requests, token = [], first_token
    auth = f"Authorization: Bearer {key}\r\nHost: {host}\r\n"
    for index in range(total):
        group = rng.choice(groups)
        if int((index + 1) * share) > int(index * share):  # posts spread evenly
            body = json.dumps({"text": f"到了吗？ bench{token}", "sender": "customer"}).encode()
            head = (
                f"POST /api/v1/groups/{group}/messages HTTP/1.1\r\n{auth}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            requests.append(("post", token, head.encode() + body))
            token += 1
        else:
            head = f"GET /api/v1/groups/{group}/messages?limit=20 HTTP/1.1\r\n{auth}\r\n"
            requests.append(("get", None, head.encode()))
    return Load(requests, args.post_rate + args.api_rate)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _api_connection(port: int, load: Load, next_index: list[int], start: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (index := next_index[0]) < len(load.requests):
            next_index[0] += 1
            delay = start + index / load.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, token, request = load.requests[index]
            began = time.perf_counter()
            writer.write(request)
            status, _body = await _read_response(reader)
            read = time.perf_counter()
            load.answers.append((kind, token, status, read - began, read))
    finally:
        writer.close()


async def run_load(port: int, load: Load) -> None:
    next_index, start = [0], time.perf_counter()
    await asyncio.gather(
        *(_api_connection(port, load, next_index, start) for _ in range(CONNECTIONS))
    )


class Stream:
    """One open chat page: the event stream of one group, read as it comes."""

    def __init__(self, port: int, group: str, cookie: str, arrivals: dict[int, list[float]]):
        self.port, self.group, self.cookie, self.arrivals = port, group, cookie, arrivals
        self.opened = asyncio.Event()
        self.status = 0
        self.writer: asyncio.StreamWriter | None = None
        self.ended = False

    async def run(self) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(
            (
                f"GET /portal/groups/{self.group}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Accept: text/event-stream\r\nCookie: {self.cookie}\r\n\r\n"
            ).encode()
        )
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.status = int(head.split(b" ", 2)[1])
            pending = b""
            while chunk := await reader.read(65536):
                now = time.perf_counter()
                if not self.opened.is_set() and b"retry:" in chunk:
                    self.opened.set()
                # Only whole events (each ends with a blank line) are searched for tokens.
                pending += chunk
                end = pending.rfind(b"\n\n")
                if end < 0:
                    continue
                for found in TOKEN.finditer(pending, 0, end):
                    self.arrivals.setdefault(int(found[1]), []).append(now)
                pending = pending[end + 2 :]
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.ended = True
            self.opened.set()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def sign_in(port: int) -> str:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        form = client.get("/portal/login")
        csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form.text).group(1)
        answer = client.post(
            "/portal/login", data={"login": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": csrf}
        )
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in answered {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def wait_check(port: int, count: int = 20) -> tuple[float, set[str]]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        began = time.perf_counter()
        answers = await asyncio.gather(*(client.get("/bench/wait") for _ in range(count)))
        return time.perf_counter() - began, {a.json()["wait"] for a in answers}


# One worker class


def _api_rows(load: Load, label: str) -> tuple[list[str], int]:
    rows, failed = [], 0
    for kind, name in (("get", "GET messages"), ("post", "POST message")):
        answers = [a for a in load.answers if a[0] == kind]
        bad = [a for a in answers if a[2] >= 300]
        failed += len(bad) + (len(answers) == 0)
        rows.append(
            f"    {label:<12} {name:<13} {len(answers):>5} answered, {len(bad)} failed; "
            + _ms([a[3] for a in answers])
        )
    missing = [r for r in load.requests if r[0] == "post"]
    failed += len(missing) - len([a for a in load.answers if a[0] == "post"])
    return rows, failed


async def measure(args, server: Gunicorn, key: str, groups: list[str], cookie: str, counts):
    """The two phases; returns the number of failures."""
    failed = 0
    quiet = build_load(args, "127.0.0.1", key, groups, 0)
    await run_load(server.port, quiet)
    rows, bad = _api_rows(quiet, "no streams")
    failed += bad

    arrivals: dict[int, list[float]] = {}
    streams = [Stream(server.port, group, cookie, arrivals) for group in groups[: args.streams]]
    began = time.perf_counter()
    tasks = [asyncio.create_task(s.run()) for s in streams]
    await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), 120)
    opened = time.perf_counter() - began
    refused = [s for s in streams if s.status != 200 or s.ended]
    print(
        f"  {len(streams) - len(refused)} of {len(streams)} streams open in {opened:.1f} s"
        + (f"; {len(refused)} refused or ended" if refused else "")
    )
    failed += len(refused)
    await asyncio.sleep(2)
    counts["streams open"] = held(*args.held)

    loaded = build_load(args, "127.0.0.1", key, groups, 1_000_000)
    cpu_before, web_before, wall = time.process_time(), server.cpu(), time.perf_counter()
    await run_load(server.port, loaded)
    await asyncio.sleep(2)  # the last messages' events
    wall = time.perf_counter() - wall
    client_cpu, web_cpu = time.process_time() - cpu_before, server.cpu() - web_before
    more, bad = _api_rows(loaded, f"{len(streams)} streams")
    rows += more
    failed += bad
    print("\n".join(rows))

    delays, lost, twice = [], 0, 0
    for kind, token, status, _seconds, read in loaded.answers:
        if kind != "post" or status >= 300:
            continue
        seen = arrivals.get(token, [])
        if not seen:
            lost += 1
            continue
        twice += len(seen) > 1
        delays.append(seen[0] - read)
    print(
        f"    posted → on the stream: {len(delays)} arrived, {lost} lost, {twice} twice; "
        + _ms(delays)
        + f"; earliest {min(delays, default=0) * 1000:.0f} ms (before the POST's answer was read)"
    )
    print(
        f"    CPU over {wall:.0f} s: client {client_cpu / wall:.0%} of a core, gunicorn "
        f"{web_cpu / wall:.0%} of a core"
    )
    failed += lost + twice
    ended = sum(s.ended for s in streams)
    if ended:
        print(f"    {ended} streams ended while the load ran")
        failed += ended

    for s in streams:
        s.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(CLOSED_WAIT)
    counts["streams closed"] = held(*args.held)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/chaincollab_bench_stream"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--worker-class", action="append", dest="classes")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=400, help="gthread: threads a worker")
    parser.add_argument("--worker-connections", type=int, default=1000, help="gevent")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--post-rate", type=float, default=20, help="messages posted a second")
    parser.add_argument("--api-rate", type=float, default=30, help="API reads a second")
    args = parser.parse_args(argv)
    args.classes = args.classes or ["gevent", "gthread"]
    check_droppable(parser, args.database_url)
    url = make_url(args.database_url)

    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    config = Config.from_env()
    migrated(config.sqlalchemy_url)
    db = Database(config.sqlalchemy_url)
    seeded = seed_chain(db)
    seed_bulk(db, seeded, args.streams / 10_000)
    with db.session() as session:
        _, key = issue_api_key(session, chain_id=seeded.chain_id, name="bench")
        session.commit()
    with db.engine.connect() as conn:
        groups = [
            str(g)
            for g in conn.scalars(
                text("SELECT id FROM delivery_groups WHERE dealer_id = :d ORDER BY id"),
                {"d": seeded.dealer_id},
            )
        ]
    redis_client = redis.Redis.from_url(args.redis_url)
    redis_client.flushdb()
    args.held = (
        redis_client,
        db,
        url.database,
        redis_client.connection_pool.connection_kwargs["db"],
    )
    print(
        f"{len(groups)} groups; {args.streams} streams; API load {args.api_rate:g} reads + "
        f"{args.post_rate:g} posts a second for {args.seconds:g} s over {CONNECTIONS} "
        f"keep-alive connections; {os.cpu_count()} CPUs, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    logs = Path(f"/tmp/chain-collab-chat-stream-{os.getpid()}")
    logs.mkdir(exist_ok=True)
    failed = 0
    for worker_class in args.classes:
        server = Gunicorn(args, worker_class, logs)
        try:
            print(f"\n{worker_class}: gunicorn {' '.join(server.argv[5:-1])}")
            seconds, waits = asyncio.run(wait_check(server.port))
            print(
                f"  20 × pg_sleep(0.2) at once: {seconds:.2f} s; psycopg waits with "
                + ", ".join(sorted(waits))
            )
            counts = {"before": held(*args.held)}
            cookie = sign_in(server.port)
            failed += asyncio.run(measure(args, server, key, groups, cookie, counts))
            for name, count in counts.items():
                print(f"    held, {name}: {_held_text(count)}")
            before, after = counts["before"], counts["streams closed"]
            if after["redis pub/sub"] > before["redis pub/sub"]:
                print("    FAILED: subscriptions kept after the streams closed")
                failed += 1
        finally:
            server.stop()
    print(f"\nLoad average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
