"""What `make run` runs after the demo seed: web (gunicorn) and a worker, started together and
stopped together. Ctrl-C, SIGTERM or SIGHUP stops both and waits for them to exit.

Each child runs in a session of its own, so that a Ctrl-C at the terminal reaches only this
process, which then gives each child one orderly SIGTERM (a second signal would make RQ's
worker abandon the job in hand). A child still running after `stop_timeout` is killed, and
so is whatever its process group still holds once it has exited (gunicorn's workers, RQ's
scheduler).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def local_commands(*, port: int, web_workers: int) -> dict[str, list[str]]:
    """The web server and the worker, run with this interpreter (so from this virtualenv)."""
    return {
        "web": [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(web_workers),
            # A sync worker serves one request at a time: one open chat page (an event stream)
            # would take it whole. Threads hold a few dozen streams beside the API's requests;
            # hundreds want hundreds of threads (the README's production notes).
            "--worker-class", "gthread", "--threads", "32",
            # Open event streams (the portal's live chat) would hold a worker for the default 30 s.
            "--graceful-timeout", "5",
            "--access-logfile", "-",
            *_without_control_socket(),
            "wsgi:app",
        ],
        "worker": [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
    }  # fmt: skip


def _without_control_socket() -> list[str]:
    # Newer gunicorns open a control socket under ~/.gunicorn by default, which two runs on
    # one machine would share; make run has no use for it.
    from gunicorn.config import KNOWN_SETTINGS

    known = any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)
    return ["--no-control-socket"] if known else []


def supervise(
    commands: dict[str, list[str]],
    *,
    cwd: Path,
    started: Callable[[], None] = lambda: None,
    stop_timeout: float = 15.0,
) -> int:
    """Run `commands` until a stop signal arrives or one of them exits; then stop the others.
    Returns 0 when stopped by a signal, else the exit status of the command that ended."""
    received: list[int] = []
    previous = {
        signum: signal.signal(signum, lambda signum, _frame: received.append(signum))
        for signum in STOP_SIGNALS
    }
    children: dict[str, subprocess.Popen] = {}
    try:
        for name, argv in commands.items():
            if received:
                break
            children[name] = subprocess.Popen(argv, cwd=cwd, start_new_session=True)
        started()
        while not received and all(child.poll() is None for child in children.values()):
            time.sleep(0.1)
        ended = [child.returncode for child in children.values() if child.returncode is not None]
    finally:
        _stop(list(children.values()), stop_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        return 0
    return next((code for code in ended if code), 1)


def _stop(children: list[subprocess.Popen], timeout: float) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()  # the leader only: gunicorn's master stops its own workers
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            child.wait()
        # What the child left in its group (a worker of gunicorn's, RQ's scheduler) goes too.
        _signal_group(child.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is empty
        os.killpg(pgid, signum)
