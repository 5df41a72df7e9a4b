"""A push that went out while PostgreSQL restarts is recorded once it is back: the log says
what happened, and nothing is sent twice for want of a record."""

from __future__ import annotations

import contextlib
import glob
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from alembic import command

from service.app import create_app
from service.channels.models import DeliveryState
from service.cli import alembic_config
from tests.pipeline.conftest import WAIT_SECONDS, Answer, make_world

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class Postgres:
    """A PostgreSQL cluster of our own (initdb), run as the postgres user, on its own port."""

    def __init__(self, directory: Path):
        self.bin = Path(BINARIES[-1])
        self.data = directory / "data"
        shutil.chown(directory, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._run("initdb", "-D", self.data, "--auth=trust", "-U", "postgres", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/chaincollab_test_restart"

    def _run(self, tool, *args):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *map(str, args)],
            check=True,
            capture_output=True,
        )

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-w", "-l", self.data / "log", "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def create_database(self):
        self._run("createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres",
                  "chaincollab_test_restart")  # fmt: skip


@pytest.fixture
def postgres():
    if not BINARIES or shutil.which("runuser") is None:
        pytest.skip("the PostgreSQL server binaries are not installed")
    # Outside pytest's own temporary directories, which the postgres user may not enter.
    directory = Path(tempfile.mkdtemp(prefix="chain-collab-pg-"))
    try:
        server = Postgres(directory)
        server.start()
        try:
            server.create_database()
            command.upgrade(alembic_config(server.url), "head")
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class _Seen(logging.Handler):
    def __init__(self, text: str):
        super().__init__()
        self.text, self.event = text, threading.Event()

    def emit(self, record):
        if self.text in record.getMessage():
            self.event.set()


def test_a_push_sent_while_postgres_restarts_is_recorded_once_it_is_back(
    config, postgres, receiver
):
    app = create_app(
        config.with_overrides(
            database_url=postgres.url,
            queue_name="restart-pg-test",
            delivery_timeout_seconds=5.0,
            coalesce_window_seconds=0,
        )
    )
    world = make_world(app)
    channel_id = world.add_channel(receiver.url)
    held = Answer(hold=threading.Event())
    receiver.answers.append(held)
    world.report("in_production")
    world.pipeline.queue.empty()  # the drain is run below, in a thread of this process
    retrying = _Seen("Could not record")
    logging.getLogger("jobs.pushes").addHandler(retrying)
    worker = threading.Thread(target=world.pipeline.drain)
    try:
        worker.start()
        receiver.wait_for(1)  # claimed and sent: the answer is on its way
        postgres.stop()
        held.hold.set()  # answered while the database is down
        assert retrying.event.wait(WAIT_SECONDS), "the record was not retried"
        postgres.start()
        worker.join(60)
        assert not worker.is_alive()
    finally:
        held.hold.set()
        logging.getLogger("jobs.pushes").removeHandler(retrying)
        app.extensions["pipeline"].queue.empty()

    [delivery] = world.deliveries(channel_id)
    assert delivery.state == DeliveryState.DELIVERED
    assert [a.outcome for a in world.attempts(channel_id)] == ["delivered"]
    world.sweep_and_run()
    assert len(receiver.requests) == 1  # nothing sent again
    app.extensions["db"].engine.dispose()
