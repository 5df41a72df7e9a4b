"""`flask --app wsgi …` commands: db, chain, demo, worker. Each is one transaction."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain import imports
from service.chain.chains import create_chain, issue_api_key, list_api_keys, revoke_api_key
from service.chain.models import Chain
from service.config import PROJECT_ROOT
from service.errors import DomainError
from service.groups.archive import FORMATS
from service.groups.messages import iter_history


def _session() -> Session:
    return current_app.extensions["db"].session()


def _fail(error: DomainError):
    details = f" {json.dumps(error.details, ensure_ascii=False)}" if error.details else ""
    raise click.ClickException(f"{error.message}{details}")


def _resolve_chain(session: Session, chain_id: str | None) -> uuid.UUID:
    if chain_id:
        chain = session.get(Chain, uuid.UUID(chain_id))
        if chain is None:
            raise click.ClickException(f"No chain {chain_id}.")
        return chain.id
    chains = session.scalars(select(Chain.id).limit(2)).all()
    if len(chains) != 1:
        raise click.ClickException("Say which chain with --chain ID.")
    return chains[0]


def alembic_config(url: str):
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(chain_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(groups_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(worker)


@click.group("db", cls=AppGroup, help="The database schema.")
def db_cli():
    pass


@db_cli.command("upgrade", help="Migrate the database to the newest schema (alembic upgrade head).")
def db_upgrade():
    from alembic import command

    command.upgrade(alembic_config(current_app.extensions["db"].url), "head")


@click.group("chain", cls=AppGroup, help="Brands' chains, their API keys and bulk imports.")
def chain_cli():
    pass


@chain_cli.command("create", help="Create a brand's chain and print its first API key (once).")
@click.option("--name", required=True, help="The brand's name.")
@click.option("--timezone", default=None, help="Defaults to DEFAULT_TIMEZONE (Asia/Shanghai).")
def chain_create(name: str, timezone: str | None):
    timezone = timezone or current_app.extensions["chain_collab.config"].default_timezone
    with _session() as session:
        try:
            chain, brand = create_chain(session, name=name, timezone=timezone)
        except DomainError as error:
            _fail(error)
        _, key = issue_api_key(session, chain_id=chain.id, name="first key")
        session.commit()
    click.echo(f"chain:   {chain.id}\nbrand:   {brand.id}\napi key: {key}")
    click.echo("Keep the key now: it is not stored and will not be shown again.", err=True)


@chain_cli.group("keys", help="A chain's API keys.")
def keys_cli():
    pass


@keys_cli.command("create", help="Issue another API key and print it (once).")
@click.option("--chain", "chain_id")
@click.option("--name", default="API key")
def keys_create(chain_id: str | None, name: str):
    with _session() as session:
        _, key = issue_api_key(session, chain_id=_resolve_chain(session, chain_id), name=name)
        session.commit()
    click.echo(key)


@keys_cli.command("list", help="List API keys (their prefixes, never the keys).")
@click.option("--chain", "chain_id")
def keys_list(chain_id: str | None):
    with _session() as session:
        for api_key in list_api_keys(session, _resolve_chain(session, chain_id)):
            state = f"revoked {api_key.revoked_at:%Y-%m-%d}" if api_key.revoked_at else "live"
            click.echo(f"{api_key.id}  {api_key.prefix}…  {state:<18}  {api_key.name}")


@keys_cli.command("revoke", help="Revoke an API key by its id.")
@click.argument("key_id", type=click.UUID)
@click.option("--chain", "chain_id")
def keys_revoke(key_id: uuid.UUID, chain_id: str | None):
    with _session() as session:
        try:
            revoke_api_key(session, chain_id=_resolve_chain(session, chain_id), key_id=key_id)
        except DomainError as error:
            _fail(error)
        session.commit()
    click.echo(f"revoked {key_id}")


@chain_cli.command("import", help="Import organisations, members and group paths from CSV or JSON.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--chain", "chain_id")
@click.option("--errors", "errors_to", type=click.File("w"), help="Write every error here (JSONL).")
def chain_import(file: Path, chain_id: str | None, errors_to):
    from tqdm import tqdm

    text = file.read_text(encoding="utf-8-sig")
    try:
        if file.suffix.lower() == ".json":
            rows = imports.rows_from_json(json.loads(text))
        else:
            rows = imports.rows_from_csv(text)
    except (DomainError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{file}: {getattr(error, 'message', error)}") from None
    with _session() as session:
        chain = _resolve_chain(session, chain_id)
        with tqdm(total=len(rows), unit="org", file=sys.stderr, disable=None) as bar:
            record, _ = imports.run_import(
                session, chain_id=chain, rows=rows, source=f"cli:{file.name}", progress=bar.update
            )
        session.commit()
    click.echo(
        f"import {record.id}: {record.rows} rows, {record.created} created, "
        f"{record.updated} updated, {record.unchanged} unchanged, {record.failed} failed, "
        f"{len(record.errors)} errors"
    )
    for error in record.errors[:20]:
        click.echo(f"  row {error['row']}: {error['field']}: {error['reason']}", err=True)
    if errors_to:
        for error in record.errors:
            errors_to.write(json.dumps(error, ensure_ascii=False) + "\n")


@click.group("groups", cls=AppGroup, help="Delivery groups.")
def groups_cli():
    pass


@groups_cli.command("export", help="Write every message of the chain's groups, oldest first.")
@click.option("--chain", "chain_id")
@click.option(
    "--since", type=click.DateTime(), help="Only messages from then on (UTC, e.g. 2026-11-01)."
)
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="jsonl")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-")
def groups_export(chain_id: str | None, since, fmt: str, output):
    with current_app.extensions["db"].session(read_only=True) as session:
        chain = _resolve_chain(session, chain_id)
        since = since.replace(tzinfo=UTC) if since else None
        for chunk in FORMATS[fmt](iter_history(session, chain_id=chain, since=since)):
            output.write(chunk)


@click.group("demo", cls=AppGroup, help="Demo data.")
def demo_cli():
    pass


@demo_cli.command("seed", help="Create the demo chain (once) and print a fresh API key and logins.")
def demo_seed():
    from service.demo import DEMO_PASSWORD, seed_demo

    with _session() as session:
        demo = seed_demo(session)
        session.commit()
    click.echo(f"Demo chain {demo.chain.name!r} ({demo.chain.id})")
    click.echo(f"  API key:  {demo.api_key}")
    for member in demo.logins:
        click.echo(f"  login:    {member.email} / {DEMO_PASSWORD}  ({member.organisation.name})")


@click.command("worker", help="Run a worker: the pipeline's jobs, RQ's scheduler, the sweeper.")
@click.option(
    "--queue", "queues", multiple=True, help="Queues to take jobs from (default: the pipeline's)."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    help="INFO logs every job: three lines each, a cost at a thousand jobs a second.",
)
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool, log_level: str):
    from rq import Queue

    from jobs.worker import PipelineWorker

    config = current_app.extensions["chain_collab.config"]
    connection = current_app.extensions["redis"].client
    rq_worker = PipelineWorker(
        [Queue(name, connection=connection) for name in queues or (config.queue_name,)],
        connection=connection,
        pipeline=current_app.extensions["pipeline"],
        sweep_interval=config.sweep_interval_seconds,
    )
    rq_worker.work(burst=burst, with_scheduler=True, logging_level=log_level.upper())


@click.group("outbox", cls=AppGroup, help="The outbox and the jobs that drain it.")
def outbox_cli():
    pass


@outbox_cli.command("sweep", help="Enqueue again what crashed or lost jobs left behind.")
def outbox_sweep():
    rows, channels = current_app.extensions["pipeline"].sweep()
    click.echo(f"enqueued {rows} outbox rows and pushes for {channels} channels")
