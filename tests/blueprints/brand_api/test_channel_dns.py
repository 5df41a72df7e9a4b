"""A channel's URL is checked, DNS and all, before the request's write transaction begins:
on SQLite, while the resolver is being asked, another connection takes the write lock."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace

import pytest

from service.chain.chains import issue_api_key
from tests.blueprints.brand_api.chain_world import API
from tests.one_order import place_one_order

WAIT_SECONDS = 10
PUBLIC = ["93.184.215.14"]


@pytest.fixture
def sqlite_path(engine) -> str:
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock taken when a transaction begins is SQLite's")
    return engine.url.database


@pytest.fixture
def shop(app, committed):
    placed = place_one_order(committed, [("Foshan", "Sofa frame", 1, "FS-77")])
    _, key = issue_api_key(committed, chain_id=placed.chain.id, name="test")
    committed.commit()
    return placed.group.id, {"Authorization": f"Bearer {key}"}


class HeldResolver:
    """Answers only once the test has looked at the database while it is being asked."""

    def __init__(self):
        self.asked, self.answer = threading.Event(), threading.Event()

    def __call__(self, name: str, port: int) -> list[str]:
        self.asked.set()
        assert self.answer.wait(WAIT_SECONDS)
        return PUBLIC


def send_while_resolving(app, sqlite_path, request) -> object:
    """Send `request` (a function of a test client) with a resolver that waits; while it
    waits, take SQLite's write lock from another connection, failing at once if it is held."""
    resolver = HeldResolver()
    policy = app.extensions["outbound_policy"]
    app.extensions["outbound_policy"] = replace(policy, resolve=resolver)
    answered = {}
    thread = threading.Thread(target=lambda: answered.update(response=request(app.test_client())))
    try:
        thread.start()
        assert resolver.asked.wait(WAIT_SECONDS)
        other = sqlite3.connect(sqlite_path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the request holds it
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        resolver.answer.set()
        thread.join(WAIT_SECONDS)
        app.extensions["outbound_policy"] = policy
    return answered["response"]


def test_creating_a_channel_resolves_its_url_before_taking_the_write_lock(app, sqlite_path, shop):
    group_id, auth = shop
    response = send_while_resolving(
        app,
        sqlite_path,
        lambda client: client.post(
            f"{API}/groups/{group_id}/channels",
            json={"type": "slack", "url": "https://hooks.example.com/services/T0/B0/X"},
            headers=auth,
        ),
    )
    assert response.status_code == 201, response.get_json()


def test_changing_a_channel_url_resolves_it_before_taking_the_write_lock(app, sqlite_path, shop):
    group_id, auth = shop
    policy = app.extensions["outbound_policy"]
    app.extensions["outbound_policy"] = replace(policy, resolve=lambda name, port: PUBLIC)
    try:
        made = app.test_client().post(
            f"{API}/groups/{group_id}/channels",
            json={"type": "slack", "url": "https://hooks.example.com/services/T0/B0/X"},
            headers=auth,
        )
    finally:
        app.extensions["outbound_policy"] = policy
    assert made.status_code == 201, made.get_json()
    response = send_while_resolving(
        app,
        sqlite_path,
        lambda client: client.patch(
            f"{API}/channels/{made.get_json()['id']}",
            json={"url": "https://hooks.example.com/services/T0/B0/Y"},
            headers=auth,
        ),
    )
    assert response.status_code == 200, response.get_json()
