"""`flask --app wsgi …` commands: db, chain, members, groups, demo, worker. Each is one
transaction."""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.attachments.attachments import known_ids
from service.attachments.files import FileStore, sweep_orphans
from service.chain import import_files, imports
from service.chain.chains import create_chain, issue_api_key, list_api_keys, revoke_api_key
from service.chain.models import Chain
from service.chain.password_links import DEFAULT_HOURS as DEFAULT_LINK_HOURS
from service.chain.password_links import make_password_link, password_url
from service.config import PROJECT_ROOT
from service.db import utcnow
from service.errors import DomainError
from service.groups.archive import FORMATS
from service.groups.messages import iter_history
from service.text_files import NotUtf8, utf8_text


def _session() -> Session:
    return current_app.extensions["db"].session()


class CommandError(click.ClickException):
    """A bad argument or a refused request: one line on stderr, exit status 2, as for click's
    own usage errors. Scripts read one line; nobody needs a traceback for a typo."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def _one_line(error: DomainError) -> CommandError:
    """The error's message, then what its details add to it."""
    details = dict(error.details)
    parts = [error.message]
    for name, reasons in details.pop("fields", {}).items():
        parts += [f"{name}: {reason}" for reason in reasons if reason not in error.message]
    if details:
        parts.append(json.dumps(details, ensure_ascii=False))
    return CommandError(" ".join(parts))


class _OneLineErrors:
    """For the top-level commands, so for every command below them: usage errors without
    click's usage lines, refused requests (DomainError) as one line, and anything else that
    escapes as one line too (the traceback only with FLASK_DEBUG=1)."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise CommandError(error.format_message()) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise CommandError(error.format_message()) from None
        except DomainError as error:
            raise _one_line(error) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
                raise
            raise click.ClickException(
                " ".join(f"{type(error).__name__}: {error}".split())[:500]
                + " (FLASK_DEBUG=1 shows the traceback)"
            ) from None


class CommandGroup(_OneLineErrors, AppGroup):
    pass


class Command(_OneLineErrors, click.Command):
    pass


def _resolve_chain(session: Session, chain_id: uuid.UUID | None) -> uuid.UUID:
    if chain_id:
        chain = session.get(Chain, chain_id)
        if chain is None:
            raise CommandError(f"No chain {chain_id}.")
        return chain.id
    chains = session.scalars(select(Chain.id).limit(2)).all()
    if len(chains) != 1:
        raise CommandError("Say which chain with --chain ID.")
    return chains[0]


def _name(value: str, *, limit: int, option: str) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise CommandError(f"{option}: give 1 to {limit} characters.")
    return value


def _read_text(path: Path) -> str:
    """The file's text, UTF-8 (with or without a byte-order mark)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: cannot read it: {error.strerror or error}.") from None
    try:
        return utf8_text(raw)
    except NotUtf8 as error:
        message = f"{path}: line {error.line} is not UTF-8; save the file as UTF-8."
        raise CommandError(message) from None


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
    app.cli.add_command(members_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(worker)


@click.group("db", cls=CommandGroup, help="The database schema.")
def db_cli():
    pass


@db_cli.command("upgrade", help="Migrate the database to the newest schema (alembic upgrade head).")
def db_upgrade():
    from alembic import command

    command.upgrade(alembic_config(current_app.extensions["db"].url), "head")


@click.group("chain", cls=CommandGroup, help="Brands' chains, their API keys and bulk imports.")
def chain_cli():
    pass


@chain_cli.command("create", help="Create a brand's chain and print its first API key (once).")
@click.option("--name", required=True, help="The brand's name.")
@click.option("--timezone", default=None, help="Defaults to DEFAULT_TIMEZONE (Asia/Shanghai).")
def chain_create(name: str, timezone: str | None):
    timezone = timezone or current_app.extensions["chain_collab.config"].default_timezone
    name = _name(name, limit=200, option="--name")
    with _session() as session:
        chain, brand = create_chain(session, name=name, timezone=timezone)
        _, key = issue_api_key(session, chain_id=chain.id, name="first key")
        session.commit()
    click.echo(f"chain:   {chain.id}\nbrand:   {brand.id}\napi key: {key}")
    click.echo("Keep the key now: it is not stored and will not be shown again.", err=True)


@chain_cli.group("keys", help="A chain's API keys.")
def keys_cli():
    pass


@keys_cli.command("create", help="Issue another API key and print it (once).")
@click.option("--chain", "chain_id", type=click.UUID)
@click.option("--name", default="API key")
def keys_create(chain_id: uuid.UUID | None, name: str):
    name = _name(name, limit=100, option="--name")
    with _session() as session:
        _, key = issue_api_key(session, chain_id=_resolve_chain(session, chain_id), name=name)
        session.commit()
    click.echo(key)


@keys_cli.command("list", help="List API keys (their prefixes, never the keys).")
@click.option("--chain", "chain_id", type=click.UUID)
def keys_list(chain_id: uuid.UUID | None):
    with _session() as session:
        for api_key in list_api_keys(session, _resolve_chain(session, chain_id)):
            state = f"revoked {api_key.revoked_at:%Y-%m-%d}" if api_key.revoked_at else "live"
            click.echo(f"{api_key.id}  {api_key.prefix}…  {state:<18}  {api_key.name}")


@keys_cli.command("revoke", help="Revoke an API key by its id.")
@click.argument("key_id", type=click.UUID)
@click.option("--chain", "chain_id", type=click.UUID)
def keys_revoke(key_id: uuid.UUID, chain_id: uuid.UUID | None):
    with _session() as session:
        revoke_api_key(session, chain_id=_resolve_chain(session, chain_id), key_id=key_id)
        session.commit()
    click.echo(f"revoked {key_id}")


@chain_cli.command("import", help="Import organisations, members and group paths from CSV or JSON.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--chain", "chain_id", type=click.UUID)
@click.option(
    "--errors",
    "errors_to",
    type=click.File("w", encoding="utf-8", lazy=False),
    help="Write every error here (JSONL).",
)
def chain_import(file: Path, chain_id: uuid.UUID | None, errors_to):
    from tqdm import tqdm

    text = _read_text(file)
    try:
        if file.suffix.lower() == ".json":
            rows = import_files.rows_from_json(json.loads(text))
        else:
            rows = import_files.rows_from_csv(text)
    except DomainError as error:
        raise CommandError(f"{file}: {_one_line(error).message}") from None
    except (ValueError, RecursionError) as error:
        # Not JSON (JSONDecodeError is a ValueError), nested past the parser's depth, or a
        # CSV the csv module refuses (a field over its size limit).
        raise CommandError(f"{file}: {error}") from None
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


@click.group("groups", cls=CommandGroup, help="Delivery groups.")
def groups_cli():
    pass


@groups_cli.command("export", help="Write every message of the chain's groups, oldest first.")
@click.option("--chain", "chain_id", type=click.UUID)
@click.option(
    "--since", type=click.DateTime(), help="Only messages from then on (UTC, e.g. 2026-11-01)."
)
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="jsonl")
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=False), default="-")
def groups_export(chain_id: uuid.UUID | None, since, fmt: str, output):
    with current_app.extensions["db"].session(read_only=True) as session:
        chain = _resolve_chain(session, chain_id)
        since = since.replace(tzinfo=UTC) if since else None
        for chunk in FORMATS[fmt](iter_history(session, chain_id=chain, since=since)):
            output.write(chunk)


@groups_cli.command(
    "sweep-attachments",
    help="Remove attachment files left without their row by a process that died mid-upload.",
)
@click.option(
    "--older-than-hours", type=click.IntRange(1), default=24, show_default=True,
    help="Only files at least this old (an upload under way keeps its own).",
)  # fmt: skip
def groups_sweep_attachments(older_than_hours: int):
    config = current_app.extensions["chain_collab.config"]
    with current_app.extensions["db"].session(read_only=True) as session:
        removed = sweep_orphans(
            FileStore(config.attachments_path),
            lambda ids: known_ids(session, ids),
            older_than=timedelta(hours=older_than_hours),
            now=utcnow(),
        )
    click.echo(f"removed {removed} files")


@click.group("members", cls=CommandGroup, help="The people of the chain's organisations.")
def members_cli():
    pass


@members_cli.command(
    "password-link", help="Print a one-time link where a member sets a portal password (once)."
)
@click.option("--chain", "chain_id", type=click.UUID)
@click.option("--member", "member_id", type=click.UUID, required=True)
@click.option("--hours", default=DEFAULT_LINK_HOURS, show_default=True, help="Until it expires.")
def members_password_link(chain_id: uuid.UUID | None, member_id: uuid.UUID, hours: int):
    base_url = current_app.extensions["chain_collab.config"].public_url
    with _session() as session:
        chain = _resolve_chain(session, chain_id)
        link, token = make_password_link(
            session, chain_id=chain, member_id=member_id, made_by="cli", expires_in_hours=hours
        )
        session.commit()
    # Without PUBLIC_URL the command cannot know the portal's address: the path, to put after it.
    click.echo(password_url(base_url or "", token))
    if not base_url:
        click.echo("PUBLIC_URL is not set: put the portal's address before this path.", err=True)
    click.echo(
        f"Expires {link.expires_at:%Y-%m-%d %H:%M} UTC; usable once; not shown again.", err=True
    )


@click.group("demo", cls=CommandGroup, help="Demo data.")
def demo_cli():
    pass


@demo_cli.command(
    "seed", help="Create the demo chain (once); print a new API key (the last one is revoked)."
)
def demo_seed():
    _seed_and_print()


def _seed_and_print() -> None:
    from service.demo import DEMO_PASSWORD, seed_demo

    with _session() as session:
        demo = seed_demo(session)
        session.commit()
        click.echo(f"Demo chain {demo.chain.name!r} ({demo.chain.id})")
        click.echo(f"  API key:  {demo.api_key}  (the previous demo key is revoked)")
        for member in demo.logins:
            organisation = member.organisation.name
            click.echo(f"  login:    {member.email} / {DEMO_PASSWORD}  ({organisation})")


@demo_cli.command(
    "serve", help="Seed the demo, then run web and a worker until stopped (what `make run` runs)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--web-workers", type=click.IntRange(1, 16), default=2, show_default=True)
def demo_serve(port: int, web_workers: int):
    from service.config import PROJECT_ROOT
    from service.redis_server import ensure_embedded_redis, stop_embedded_redis
    from service.supervisor import local_commands, supervise

    config = current_app.extensions["chain_collab.config"]
    _seed_and_print()
    if config.embedded_redis:
        ensure_embedded_redis(config.instance_path)  # once, before web and worker race for it
    current_app.extensions["db"].engine.dispose()  # no connection of ours outlives the seed

    def serving() -> None:
        base = f"http://127.0.0.1:{port}"
        click.echo(f"Serving {base}/  API docs: {base}/api/v1/docs  portal: {base}/portal/")

    code = supervise(
        local_commands(port=port, web_workers=web_workers), cwd=PROJECT_ROOT, started=serving
    )
    # The embedded Redis server is this run's to stop, unless something else still uses it.
    if config.embedded_redis:
        current_app.extensions["redis"].client.close()
        stop_embedded_redis(config.instance_path, unless_in_use=True)
    raise click.exceptions.Exit(code)


@click.command(
    "worker", cls=Command, help="Run a worker: the pipeline's jobs, RQ's scheduler, the sweeper."
)
@click.option(
    "--queue", "queues", multiple=True, help="Queues to take jobs from (default: the pipeline's)."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
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


@click.group("outbox", cls=CommandGroup, help="The outbox and the jobs that drain it.")
def outbox_cli():
    pass


@outbox_cli.command("sweep", help="Enqueue again what crashed or lost jobs left behind.")
def outbox_sweep():
    rows, channels = current_app.extensions["pipeline"].sweep()
    click.echo(f"enqueued {rows} outbox rows and pushes for {channels} channels")
