"""The request's one transaction, committed at its edge: when the view answers with success,
never otherwise; a commit that fails is answered as the error it is."""

from __future__ import annotations

import logging

import pytest
from flask import abort
from sqlalchemy import func, select

from blueprints import db
from blueprints.json_errors import CONFLICT_MESSAGE
from service.app import create_app
from service.chain.chains import create_chain
from service.chain.models import DirectoryGroup


@pytest.fixture
def edge_app(config, connection):
    app = create_app(config)

    def write(path: str, status: int):
        chain_id = app.config["TEST_CHAIN_ID"]
        db().add(DirectoryGroup(chain_id=chain_id, name=path, path=path))
        if path.startswith("twice"):  # the same path again: refused by the database
            db().add(DirectoryGroup(chain_id=chain_id, name=path, path=path))
        if path == "twice-flushed":  # refused in the view, not at the commit
            db().flush()
        if path == "nameless":  # a NOT NULL column left empty: a bug, not a conflict
            db().add(DirectoryGroup(chain_id=chain_id, name=None, path="nameless/2"))
        if status >= 400:
            abort(status)
        return {"path": path}, status

    app.add_url_rule("/api/v1/test-writes/<path>/<int:status>", view_func=write, methods=["POST"])
    # Named as one of the portal's views, so that the portal's error handlers answer for it.
    app.add_url_rule(
        "/portal/test-writes/<path>/<int:status>",
        endpoint="dealer_portal.test_writes",
        view_func=write,
        methods=["POST"],
    )
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
    response = edge_app.test_client().post("/api/v1/test-writes/nameless/201")
    # As a view's own database error: the JSON door's format, no detail of what broke.
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": {}}
    }
    assert response.headers["Content-Security-Policy"]  # the other hooks saw this answer
    assert _groups(session, chain_id) == 0


@pytest.mark.parametrize("path", ["twice", "twice-flushed"])
def test_a_write_refused_as_a_conflict_is_a_409_that_stores_nothing(
    edge_app, session, chain_id, caplog, path
):
    with caplog.at_level(logging.WARNING, logger="blueprints.json_errors"):
        response = edge_app.test_client().post(f"/api/v1/test-writes/{path}/201")
    assert response.status_code == 409
    assert response.json == {
        "error": {
            "code": "conflict",
            "message": CONFLICT_MESSAGE,
            "details": {},
        }
    }
    assert response.headers["Content-Security-Policy"]
    assert _groups(session, chain_id) == 0
    # The log names the constraint (PostgreSQL) or its table and columns (SQLite).
    assert "directory_groups" in caplog.text


@pytest.mark.parametrize("path", ["twice", "twice-flushed"])
def test_the_portal_answers_a_conflict_with_its_error_page(edge_app, session, chain_id, path):
    response = edge_app.test_client().post(
        f"/portal/test-writes/{path}/201", headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "出了点问题" in response.text and "未保存任何内容，请重试。" in response.text
    assert "directory_groups" not in response.text and "UNIQUE" not in response.text
    assert _groups(session, chain_id) == 0
