"""`make run`, for real: the Makefile's target on the embedded defaults in an instance of its
own, on a free port; stopped as a user stops it, then searched for anything it left running."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from service.config import PROJECT_ROOT
from service.redis_server import process_alive, redis_binary

START_TIMEOUT = 60  # two cores shared by the suite: a cold start can take a while
STOP_TIMEOUT = 30

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def instance():
    # Short on purpose: the embedded Redis server's unix socket path must fit in 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="cc-run-", dir="/tmp"))
    yield path
    for pid in started_in(path):  # whatever a failed test left, so that it fails alone
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def started_in(instance: Path) -> dict[int, str]:
    """pid → command line of every live process working for `instance`: those started with
    INSTANCE_PATH=instance in their environment, and the Redis server whose directory it is
    (it rewrites its own environment to show its title)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        ours = f"INSTANCE_PATH={instance}".encode() in environ
        redis = command.startswith(str(redis_binary())) and Path(cwd) == instance
        if (ours or redis) and process_alive(int(entry.name)):
            found[int(entry.name)] = command
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MakeRun:
    """`make run` in a session of its own (as a terminal's foreground job is), its output
    collected as it comes."""

    def __init__(self, instance: Path, port: int):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1"}
        # `-o install`: this interpreter's environment is installed already.
        command = ["make", "-s", "-o", "install", "run", f"PORT={port}"]
        command.append(f"BIN={Path(sys.executable).parent}")
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, f"make run ended early:\n{self.output}"
            assert time.monotonic() < deadline, f"make run never answered:\n{self.output}"
            try:
                if httpx.get(f"{self.base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def stop(self, how: str) -> None:
        if how == "ctrl-c":  # the terminal signals its whole foreground process group
            os.killpg(self.process.pid, signal.SIGINT)
        else:
            self.process.send_signal(signal.SIGTERM)  # to make alone
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make run did not stop on {how}:\n{self.output}")


def _logs_in(base: str, email: str, password: str) -> bool:
    with httpx.Client(base_url=base, timeout=10) as browser:
        form = browser.get("/portal/login").text
        token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form).group(1)
        data = {"login": email, "password": password, "csrf_token": token}
        answer = browser.post("/portal/login", data=data)
    return answer.status_code == 302 and answer.headers["location"].endswith("/portal/")


def _kind(command: str) -> str:
    """What a process is, from its command line: `gunicorn`, `flask worker`, `redis-server`..."""
    argv = command.split()
    program = Path(argv[0]).name
    if program.startswith("python") and len(argv) > 1:
        argv = argv[2:] if argv[1] == "-m" else argv[1:]
        program = Path(argv[0]).name
    if program == "flask":
        return "flask worker" if "worker" in argv else "flask " + " ".join(argv[3:5])
    return program


def test_make_run_serves_stops_everything_it_started_and_runs_again(instance):
    key = None
    for how in ("SIGTERM", "ctrl-c"):
        run = MakeRun(instance, free_port())
        try:
            run.wait_until_serving()
        except BaseException:
            run.stop("SIGTERM")
            raise
        started = started_in(instance)
        # Among them gunicorn's master and 2 workers, the worker and RQ's scheduler, the
        # embedded Redis server.
        kinds = [_kind(command) for command in started.values()]
        assert kinds.count("gunicorn") == 3 and kinds.count("flask worker") == 2, started
        assert "redis-server" in kinds, started

        # What it printed works: the new key (the previous run's is revoked), the logins.
        new_key = re.search(r"API key:\s+(\S+)", run.output).group(1)
        organisations = f"{run.base}/api/v1/organisations"
        answer = httpx.get(organisations, headers={"Authorization": f"Bearer {new_key}"})
        assert answer.status_code == 200
        assert len(answer.json()["items"]) == 6  # one demo chain, however many runs
        if key is not None:
            stale = httpx.get(organisations, headers={"Authorization": f"Bearer {key}"})
            assert stale.status_code == 401
        key = new_key
        logins = re.findall(r"login:\s+(\S+) / (\S+)", run.output)
        assert logins and all(_logs_in(run.base, *login) for login in logins)

        run.stop(how)
        left = {pid: command for pid, command in started.items() if process_alive(pid)}
        assert not left, f"left running after {how}: {left}"
        assert not started_in(instance)
