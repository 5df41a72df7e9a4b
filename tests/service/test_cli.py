import json
import re

from sqlalchemy import create_engine, func, inspect, select

from service.chain.chains import chain_for_api_key
from service.chain.models import ApiKey, Chain, Member, Organisation
from service.cli import alembic_config
from service.demo import DEMO_CHAIN

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


def test_demo_seed_creates_the_demo_once_and_a_fresh_key_each_time(cli, session):
    first = cli.invoke(args=["demo", "seed"])
    second = cli.invoke(args=["demo", "seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert session.scalar(select(func.count()).select_from(Chain)) == 1
    assert session.scalar(select(Chain.name)) == DEMO_CHAIN
    keys = [re.search(r"API key:\s+(\S+)", out.output).group(1) for out in (first, second)]
    assert keys[0] != keys[1]
    assert all(chain_for_api_key(session, key) for key in keys)
    kinds = session.scalars(select(Organisation.kind)).all()
    assert sorted(kinds) == ["brand", "dealer", "dealer", "dealer", "factory", "factory"]
    assert "li.na@pudong.example / demo-password" in first.output


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
