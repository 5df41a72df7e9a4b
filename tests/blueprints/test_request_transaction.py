"""The request's one transaction, committed at its edge: when the view answers with success,
never otherwise; a commit that fails is answered as the error it is."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import func, select

from blueprints import db
from service.app import create_app
from service.chain.chains import create_chain
from service.chain.models import DirectoryGroup


@pytest.fixture
def edge_app(config, connection):
    app = create_app(config)

    @app.post("/api/v1/test-writes/<path>/<int:status>")
    def write(path: str, status: int):
        chain_id = app.config["TEST_CHAIN_ID"]
        db().add(DirectoryGroup(chain_id=chain_id, name=path, path=path))
        if path == "twice":  # the same path again: refused by the database at the commit
            db().add(DirectoryGroup(chain_id=chain_id, name=path, path=path))
        if status >= 400:
            abort(status)
        return {"path": path}, status

    app.extensions["db"].sessionmaker.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def chain_id(session, edge_app):
    chain, _ = create_chain(session, name="Acme Home")
    session.commit()
    edge_app.config["TEST_CHAIN_ID"] = chain.id
    return chain.id


def _groups(session, chain_id) -> int:
    return session.scalar(
        select(func.count()).select_from(DirectoryGroup).where(DirectoryGroup.chain_id == chain_id)
    )


@pytest.mark.parametrize("status", [200, 201, 302])
def test_a_successful_answer_commits_what_the_view_wrote(edge_app, session, chain_id, status):
    response = edge_app.test_client().post(f"/api/v1/test-writes/East/{status}")
    assert response.status_code == status
    assert _groups(session, chain_id) == 1


@pytest.mark.parametrize("status", [401, 409, 422])
def test_a_refused_request_writes_nothing(edge_app, session, chain_id, status):
    response = edge_app.test_client().post(f"/api/v1/test-writes/East/{status}")
    assert response.status_code == status
    assert response.json["error"]["code"]
    assert _groups(session, chain_id) == 0


def test_a_commit_the_database_refuses_is_an_error_answer(edge_app, session, chain_id):
    response = edge_app.test_client().post("/api/v1/test-writes/twice/201")
    # As a view's own database error: the JSON door's format, no detail of what broke.
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": {}}
    }
    assert response.headers["Content-Security-Policy"]  # the other hooks saw this answer
    assert _groups(session, chain_id) == 0
