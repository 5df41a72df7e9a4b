import json
import os
import re
import subprocess
import sys

import click
import pytest
from sqlalchemy import create_engine, func, inspect, select

from service.chain.chains import chain_for_api_key
from service.chain.members import add_member, hash_password
from service.chain.models import ApiKey, Chain, Member, Organisation
from service.chain.organisations import add_organisation
from service.cli import alembic_config
from service.config import PROJECT_ROOT
from service.customers.models import Customer
from service.demo import DEMO_CHAIN, DEMO_PASSWORD

CSV = (
    "custom_id,kind,name,groups,member_name,member_role,member_mobile,member_email\n"
    "D-1,dealer,Pudong Store,Dealers/East,Li Na,admin,13812345601,li.na@pudong.example\n"
    "D-1,dealer,Pudong Store,Dealers/East,Bad Contact,admin,12345,\n"
    "F-1,factory,Foshan Works,Production bases,,,,\n"
)


def _key(output: str) -> str:
    return re.search(r"api key: (cck_\S+)", output).group(1)


def test_chain_create_prints_a_working_key_once(cli, session):
    result = cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    assert result.exit_code == 0, result.output
    key = _key(result.output)
    chain_id = chain_for_api_key(session, key)
    assert session.get(Chain, chain_id).name == "Acme Home"
    assert key not in json.dumps([row.key_hash for row in session.scalars(select(ApiKey))])


def test_chain_create_refuses_an_unknown_time_zone(cli, session):
    result = cli.invoke(args=["chain", "create", "--name", "Acme", "--timezone", "Mars/Base"])
    assert result.exit_code != 0
    assert "Unknown time zone" in result.output
    assert session.scalar(select(func.count()).select_from(Chain)) == 0


def test_keys_can_be_added_listed_and_revoked(cli, session):
    first = _key(cli.invoke(args=["chain", "create", "--name", "Acme Home"]).output)
    second = cli.invoke(args=["chain", "keys", "create", "--name", "ERP"]).output.strip()
    assert chain_for_api_key(session, second) == chain_for_api_key(session, first)

    listing = cli.invoke(args=["chain", "keys", "list"]).output
    assert "ERP" in listing and first not in listing and second not in listing

    erp_id = re.search(r"^(\S+) .*ERP$", listing, re.MULTILINE).group(1)
    assert cli.invoke(args=["chain", "keys", "revoke", erp_id]).exit_code == 0
    assert chain_for_api_key(session, second) is None
    assert chain_for_api_key(session, first) is not None


def test_commands_ask_which_chain_when_there_are_several(cli):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    cli.invoke(args=["chain", "create", "--name", "Rival Living"])
    result = cli.invoke(args=["chain", "keys", "create"])
    assert result.exit_code != 0
    assert "--chain" in result.output


def test_chain_import_reports_bad_contacts_and_is_idempotent(cli, session, tmp_path):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    source = tmp_path / "chain.csv"
    source.write_text(CSV)
    errors = tmp_path / "errors.jsonl"

    first = cli.invoke(args=["chain", "import", str(source), "--errors", str(errors)])
    assert first.exit_code == 0, first.output
    assert "2 rows, 2 created, 0 updated, 0 unchanged, 0 failed, 1 errors" in first.output
    [error] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert error == {
        "row": 3,
        "custom_id": "D-1",
        "field": "member_mobile",
        "reason": "Not a valid phone number.",
    }
    assert session.scalar(select(func.count()).select_from(Member)) == 1

    again = cli.invoke(args=["chain", "import", str(source)])
    assert "0 created, 0 updated, 2 unchanged" in again.output
    organisations = select(func.count()).select_from(Organisation)
    assert session.scalar(organisations) == 3  # the brand, D-1, F-1


def test_chain_import_refuses_a_csv_without_its_columns(cli, tmp_path):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    source = tmp_path / "chain.csv"
    source.write_text("name,kind\nPudong,dealer\n")
    result = cli.invoke(args=["chain", "import", str(source)])
    assert result.exit_code != 0
    assert "custom_id" in result.output


def _portal_login(client, email: str, password: str):
    form = client.get("/portal/login")
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form.text).group(1)
    data = {"login": email, "password": password, "csrf_token": token}
    return client.post("/portal/login", data=data)


def test_demo_seed_twice_keeps_one_demo_and_prints_a_key_and_logins_that_work(cli, session, client):
    first = cli.invoke(args=["demo", "seed"])
    # Someone changed a demo password in between: the next seed sets it back.
    li_na = session.scalar(select(Member).where(Member.email == "li.na@pudong.example"))
    li_na.password_hash = hash_password("changed-it-since")
    session.commit()
    second = cli.invoke(args=["demo", "seed"])

    assert first.exit_code == 0 and second.exit_code == 0, (first.output, second.output)
    assert session.scalar(select(func.count()).select_from(Chain)) == 1
    assert session.scalar(select(Chain.name)) == DEMO_CHAIN
    kinds = session.scalars(select(Organisation.kind)).all()
    assert sorted(kinds) == ["brand", "dealer", "dealer", "dealer", "factory", "factory"]
    assert session.scalar(select(func.count()).select_from(Customer)) == 5
    # The key printed last works; the one before it is revoked, not left live.
    old, new = (re.search(r"API key:\s+(\S+)", out.output).group(1) for out in (first, second))
    assert chain_for_api_key(session, old) is None

    def organisations(key: str):
        return client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {key}"})

    assert organisations(old).status_code == 401
    listed = organisations(new)
    assert listed.status_code == 200
    assert len(listed.get_json()["items"]) == 6
    # Every login printed signs in to the portal.
    logins = re.findall(r"login:\s+(\S+) / (\S+)", second.output)
    assert ("li.na@pudong.example", DEMO_PASSWORD) in logins
    for email, password in logins:
        signed_in = _portal_login(client, email, password)
        assert signed_in.status_code == 302, (email, signed_in.status_code)
        client.post("/portal/logout", data={"csrf_token": _csrf_of(client)})


def _csrf_of(client) -> str:
    page = client.get("/portal/")
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page.text).group(1)


def test_db_upgrade_builds_an_empty_database(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"chains", "organisations", "members", "directory_groups"} <= tables


def _chain_with_history(session):
    """A chain with one delivery group: its welcome message and two posts."""
    from service.groups.messages import post_message
    from tests.one_order import place_one_order

    world = place_one_order(session, [("Foshan", "Sofa", 1, None)])
    chain, group = world.chain, world.group
    for text in ("When is delivery?", "Next week, 周二"):
        post_message(session, group=group, text=text, sender="customer")
    session.commit()
    return chain


def test_groups_export_writes_the_chains_whole_history_oldest_first(cli, session, tmp_path):
    _chain_with_history(session)
    target = tmp_path / "archive.jsonl"
    result = cli.invoke(args=["groups", "export", "--output", str(target)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["kind"] for r in records] == ["welcome", "text", "text"]
    assert records[-1]["text"] == "Next week, 周二"
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)


def test_groups_export_since_a_date_leaves_older_messages_out(cli, session):
    _chain_with_history(session)
    result = cli.invoke(args=["groups", "export", "--format", "csv", "--since", "2999-01-01"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "id,group_id,created_at,sender,sender_member_id,kind,text,flagged,flag_reason,"
        "client_message_id,payload"
    ]


# --- Bad arguments: one line on stderr, exit status 2, never a traceback ---

UNKNOWN = "01234567-89ab-7def-8123-456789abcdef"
NOWHERE = "/nonexistent-directory/out.jsonl"


@pytest.fixture
def bad_files(tmp_path) -> dict[str, str]:
    files = {
        "csv": ("chain.csv", CSV.encode()),
        "latin1": ("latin1.csv", CSV.replace("Pudong Store", "Café").encode("latin-1")),
        "not_json": ("chain.json", b'{"organisations": [}'),
        "deep_json": ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        "huge_field": ("huge.csv", CSV.encode() + b"D-2,dealer," + b"x" * 200_000 + b",,,,,\n"),
    }
    paths = {}
    for key, (name, content) in files.items():
        (tmp_path / name).write_bytes(content)
        paths[key] = str(tmp_path / name)
    return {**paths, "missing": str(tmp_path / "missing.csv"), "dir": str(tmp_path)}


BAD_ARGUMENTS = [
    ["db", "upgrade", "extra"],
    ["chain", "nope"],
    ["chain", "create"],
    ["chain", "create", "--name", "   "],
    ["chain", "create", "--name", "x" * 201],
    ["chain", "create", "--name", "Acme", "--timezone", "Mars/Base"],
    ["chain", "keys", "create", "--chain", "nope"],
    ["chain", "keys", "create", "--chain", UNKNOWN],
    ["chain", "keys", "create", "--name", "x" * 101],
    ["chain", "keys", "list", "--chain", "nope"],
    ["chain", "keys", "list", "--chain", UNKNOWN],
    ["chain", "keys", "revoke", "nope"],
    ["chain", "keys", "revoke", UNKNOWN],
    ["chain", "keys", "revoke", UNKNOWN, "--chain", "nope"],
    ["chain", "import", "{missing}"],
    ["chain", "import", "{dir}"],
    ["chain", "import", "{latin1}"],
    ["chain", "import", "{not_json}"],
    ["chain", "import", "{deep_json}"],
    ["chain", "import", "{huge_field}"],
    ["chain", "import", "{csv}", "--chain", "nope"],
    ["chain", "import", "{csv}", "--chain", UNKNOWN],
    ["chain", "import", "{csv}", "--errors", NOWHERE],
    ["groups", "export", "--chain", "nope"],
    ["groups", "export", "--chain", UNKNOWN],
    ["groups", "export", "--since", "yesterday"],
    ["groups", "export", "--format", "xml"],
    ["groups", "export", "--output", NOWHERE],
    ["groups", "sweep-attachments", "--older-than-hours", "0"],
    ["groups", "sweep-attachments", "--older-than-hours", "soon"],
    ["demo", "seed", "extra"],
    ["demo", "serve", "--port", "nope"],
    ["demo", "serve", "--port", "70000"],
    ["demo", "serve", "--web-workers", "0"],
    ["worker", "--log-level", "LOUD"],
    ["worker", "--nope"],
    ["outbox", "sweep", "extra"],
]


def assert_one_line_error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    # Handled: click exited; an escaping exception would be kept here instead.
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ") and len(line) > len("Error: ")
    return line


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=" ".join)
def test_a_bad_argument_is_one_line_on_stderr_and_exit_status_2(cli, session, bad_files, args):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    before = session.scalar(select(func.count()).select_from(ApiKey))

    assert_one_line_error(cli.invoke(args=[arg.format(**bad_files) for arg in args]))

    assert session.scalar(select(func.count()).select_from(ApiKey)) == before
    assert session.scalar(select(func.count()).select_from(Chain)) == 1


def test_the_unreadable_or_undecodable_file_is_named_with_the_line(cli, bad_files):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    line = assert_one_line_error(cli.invoke(args=["chain", "import", bad_files["latin1"]]))
    # The first line with "Café", written in Latin-1.
    assert bad_files["latin1"] in line and "line 2 " in line and "UTF-8" in line
    if os.path.exists("/proc/self/mem"):  # a file that exists and cannot be read, even by root
        line = assert_one_line_error(cli.invoke(args=["chain", "import", "/proc/self/mem"]))
        assert "cannot read" in line


def _leaf_commands(command, path=()) -> set[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return {
            leaf
            for name, sub in command.commands.items()
            for leaf in _leaf_commands(sub, (*path, name))
        }
    return {path}


def test_every_command_of_ours_is_tried_with_a_bad_argument(app):
    ours = {"db", "chain", "groups", "demo", "worker", "outbox"}
    commands = set().union(*(_leaf_commands(app.cli.commands[name], (name,)) for name in ours))
    tried = {
        tuple(args[: len(command)]) for args in BAD_ARGUMENTS for command in commands
    } & commands
    assert tried == commands


def test_the_real_command_line_says_one_line_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["INSTANCE_PATH"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "chain",
            "keys",
            "list",
            "--chain",
            "nope",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: Invalid value for '--chain': 'nope' is not a valid UUID."
    ]


def test_the_readmes_examples_do_not_collide_with_the_demo(session):
    # Run after `make run`, the README's examples must make new things, not find the demo's.
    from service.chain.mobiles import normalise_mobile
    from service.demo import seed_demo
    from service.orders.models import Order, WorkItem

    seed_demo(session)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    mobiles = re.findall(r'"mobile": "([^"]+)"', readme) + re.findall(r"\b1[3-9]\d{9}\b", readme)
    assert mobiles
    demo_mobiles = set(session.scalars(select(Customer.mobile))) | set(
        session.scalars(select(Member.mobile))
    )
    assert not {normalise_mobile(mobile) for mobile in mobiles} & demo_mobiles
    custom_ids = set(re.findall(r'"custom_id": "([^"]+)"', readme))
    custom_ids |= set(re.findall(r"^([A-Z]{3}-[A-Z]{2}-\d+),", readme, re.MULTILINE))
    assert custom_ids
    assert not custom_ids & set(session.scalars(select(Organisation.custom_id)))
    references = set(re.findall(r'"(?:factory_)?reference": "([^"]+)"', readme))
    references |= set(re.findall(r'"work_item": "([^"]+)"', readme))
    assert references
    taken = set(session.scalars(select(Order.reference)))
    taken |= set(session.scalars(select(WorkItem.factory_reference)))
    assert not references & taken


def test_an_unexpected_failure_is_one_line_too_and_its_traceback_on_request(tmp_path):
    # A database without its schema: the sweep's first query fails.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "sweep"]

    def run(**extra):
        return subprocess.run(
            command, capture_output=True, text=True, env=env | extra, cwd=PROJECT_ROOT, timeout=60
        )

    plain = run()
    assert plain.returncode == 1
    [line] = plain.stderr.splitlines()
    assert line.startswith("Error: ") and "FLASK_DEBUG=1" in line
    assert "Traceback" in run(FLASK_DEBUG="1").stderr


def test_members_password_link_prints_a_link_that_works_once(cli, session, client):
    cli.invoke(args=["chain", "create", "--name", "Acme Home"])
    chain_id = session.scalar(select(Chain.id))
    dealer, _ = add_organisation(session, chain_id=chain_id, kind="dealer", name="Pudong Store")
    member = add_member(session, chain_id=chain_id, organisation_id=dealer.id, name="Li Na",
                        role="admin", email="li.na@pudong.example")  # fmt: skip
    session.commit()

    result = cli.invoke(args=["members", "password-link", "--chain", str(chain_id),
                              "--member", str(member.id)])  # fmt: skip

    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://chain.example/portal/password/")  # PUBLIC_URL's
    path = url.removeprefix("https://chain.example")
    assert "usable once" in result.stderr
    form = client.get(path)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form.text).group(1)
    data = {"csrf_token": token, "password": "a new secret", "confirm": "a new secret"}
    assert client.post(path, data=data).status_code == 302
    assert client.get(path).status_code == 410
    unknown = cli.invoke(args=["members", "password-link", "--member", str(chain_id)])
    assert unknown.exit_code == 2 and "No such member." in unknown.output
