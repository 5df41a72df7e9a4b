"""PostgreSQL restarting under the webhook: a factory is told to retry (503 + Retry-After),
nothing is half-stored, and the app's pool recovers once the server is back. On a
PostgreSQL server of the test's own (a fresh cluster on another port), whatever backend
the rest of the suite runs on."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, select

from service.app import create_app
from service.chain.chains import issue_api_key
from service.cli import alembic_config
from service.groups.models import Message
from service.progress.models import TimelineEntry
from tests.blueprints.factory_webhooks.test_progress_webhook import Factory, post
from tests.one_order import place_one_order

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer:
    """A throwaway cluster run as the postgres user, stopped and started at will."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="chaincollab-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=self.dir,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        # -w: returns once the server is down.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries are not in {PG_BIN}")
    server = PostgresServer()
    server.init()
    server.start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def restart_app(config, postgres):
    database = f"restart_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = postgres.url(database)
    alembic = alembic_config(url.replace("postgresql://", "postgresql+psycopg://"))
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    app = create_app(
        config.with_overrides(database_url=url, queue_name=f"test-{uuid.uuid4().hex[:12]}")
    )
    yield app
    app.extensions["pipeline"].queue.empty()
    app.extensions["db"].engine.dispose()


def stored(app, webhook_id: str) -> tuple[int, int, int]:
    """(deliveries claimed with this webhook-id, notifications, the work item's 'shipped'
    entries)."""
    with app.extensions["db"].session() as session:
        return (
            session.scalar(select(func.count()).where(TimelineEntry.webhook_id == webhook_id)),
            session.scalar(select(func.count()).where(Message.kind == "notification")),
            session.scalar(
                select(func.count()).where(
                    TimelineEntry.milestone == "shipped", TimelineEntry.work_item_id.is_not(None)
                )
            ),
        )


def test_while_postgresql_restarts_the_webhook_says_retry_and_a_resend_is_stored_once(
    restart_app, postgres
):
    app = restart_app
    with app.extensions["db"].session() as session:
        world = place_one_order(session, [("Foshan", "Sofa frame", 1, "FS-77")])
        _, api_key = issue_api_key(session, chain_id=world.chain.id, name="test")
        session.commit()
        organisation, secret = world.factories["Foshan"]
        factory = Factory(organisation.id, secret, str(world.order.items[0].id), "")
    client = app.test_client()
    # The pool holds connections from before the restart.
    designed = {"work_item": "FS-77", "milestone": "designed"}
    assert post(client, factory, designed, webhook_id="before").status_code == 202
    _, notifications, _ = stored(app, "before")

    postgres.stop()
    event = {"work_item": "FS-77", "milestone": "shipped", "note": "On the truck"}
    refused = post(client, factory, event, webhook_id="msg_restart")
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "5"
    assert refused.get_json()["error"]["code"] == "database_unavailable"
    # Every JSON door says the same.
    api = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {api_key}"})
    assert (api.status_code, api.headers.get("Retry-After")) == (503, "5")
    assert api.get_json()["error"]["code"] == "database_unavailable"
    # /metrics still shows the counters, which are in Redis, without the database's gauge.
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert "chain_collab_outbox_pending" not in scrape.get_data(as_text=True)

    postgres.start()
    first = post(client, factory, event, webhook_id="msg_restart")
    assert first.status_code == 202, first.get_json()
    again = post(client, factory, event, webhook_id="msg_restart")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert stored(app, "msg_restart") == (1, notifications + 1, 1)

    # Restarted again with nobody asking meanwhile: the pool's connections are all dead,
    # and the next request gets a live one.
    postgres.stop()
    postgres.start()
    late = post(client, factory, designed, webhook_id="after")
    assert late.status_code == 202, late.get_json()
    assert stored(app, "msg_restart") == (1, notifications + 1, 1)
