"""The migration to e-mails unique per chain, down and up, on a database of its own."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.models import Member
from service.cli import alembic_config
from service.db import make_engine, utcnow

BEFORE = "a1d5e7c2b901"  # the revision before e-mails became unique per chain


@pytest.fixture
def scratch_url(config, tmp_path):
    url = config.sqlalchemy_url
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    schema = f"scratch_emails_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scratch = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield scratch.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def test_downgrade_refuses_while_an_address_is_shared_and_restores_the_global_index(scratch_url):
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        members = []
        for name in ("Acme Home", "Lumen Living"):
            chain, brand = create_chain(session, name=name)
            member = add_member(session, chain_id=chain.id, organisation_id=brand.id,
                                name="Li Na", role="admin", email="li.na@example.com")  # fmt: skip
            members.append(member)
        second = members[1].id  # read before the commit expires it
        session.commit()

        with pytest.raises(RuntimeError, match="several chains"):
            command.downgrade(alembic, BEFORE)
        # Removed by a statement naming only the columns it needs: the refused downgrade may
        # have undone later revisions (SQLite does not roll DDL back), so the model can be
        # ahead of the table.
        session.execute(update(Member).where(Member.id == second).values(removed_at=utcnow()))
        session.commit()
        session.close()
        engine.dispose()  # SQLite's batch mode rebuilds the table: no connection may hold it

        command.downgrade(alembic, BEFORE)
        with engine.connect() as conn, pytest.raises(IntegrityError):  # the global index is back
            conn.execute(text("UPDATE members SET removed_at = NULL"))
        command.upgrade(alembic, "head")
    engine.dispose()
