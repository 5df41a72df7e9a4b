"""The webhook checks a request's signature before it begins a transaction that may write: on
SQLite, where such a transaction takes the database's one write lock (BEGIN IMMEDIATE), a
request turned away never waits for that lock or holds it up."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from service.app import create_app
from tests.blueprints.factory_webhooks.test_progress_webhook import EVENT, Factory, post
from tests.one_order import place_one_order


@pytest.fixture
def impatient_app(config, engine):
    """An app of its own on the suite's SQLite file, whose connections give up at once on a
    lock another connection holds (busy_timeout 0): a request that wanted the write lock
    fails instead of waiting."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    app = create_app(config.with_overrides(queue_name=f"test-{uuid.uuid4().hex[:12]}"))

    @event.listens_for(app.extensions["db"].engine, "connect")
    def impatient(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    yield app
    app.extensions["pipeline"].queue.empty()
    app.extensions["db"].engine.dispose()


@pytest.fixture
def write_lock(engine):
    """Hold the database's write lock from another connection, as a long writer would."""

    class Lock:
        def __init__(self):
            self.holder = sqlite3.connect(make_url(engine.url).database, isolation_level=None)

        def __enter__(self):
            self.holder.execute("BEGIN IMMEDIATE")
            return self

        def __exit__(self, *_exc):
            self.holder.execute("ROLLBACK")

    lock = Lock()
    yield lock
    lock.holder.close()


def test_a_badly_signed_request_is_refused_while_another_holds_the_write_lock(
    impatient_app, committed, write_lock
):
    world = place_one_order(committed, [("Foshan", "Sofa frame", 1, "FS-77")])
    committed.commit()
    organisation, secret = world.factories["Foshan"]
    factory = Factory(organisation.id, secret, str(world.order.items[0].id), "")
    client = impatient_app.test_client()
    wrong = "whsec_" + "a2V5LW9mLWFub3RoZXItZmFjdG9yeQ=="

    with write_lock:
        unsigned = post(client, factory, EVENT, webhook_id="bad", signature="v1,AAAA")
        badly_signed = post(client, factory, EVENT, webhook_id="bad", secret=wrong)
        # A well-signed one must write, so it needs the lock: it is told to retry.
        signed = post(client, factory, EVENT, webhook_id="good")

    assert (unsigned.status_code, badly_signed.status_code) == (401, 401)
    assert unsigned.get_json()["error"]["code"] == "signature_malformed"
    assert badly_signed.get_json()["error"]["code"] == "signature_mismatch"
    assert signed.status_code == 503
    assert post(client, factory, EVENT, webhook_id="good").status_code == 202
