"""The three doors: brand_api, dealer_portal, factory_webhooks. Thin: parse, call service/,
render."""

from __future__ import annotations

import functools

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def db() -> Session:
    """The request's session: one transaction per request, committed at its edge
    (commit_request_session) when the view answers with success."""
    if "db_session" not in g:
        # What was read before is done with: the read-only transaction ends before this one
        # begins, so the two never overlap.
        reading = g.get("db_read_session")
        if reading is not None:
            reading.close()
        g.db_writes = request.method not in SAFE_METHODS or g.get("db_writes_on_read", False)
        g.db_session = current_app.extensions["db"].session(read_only=not g.db_writes)
    return g.db_session


def writes(view):
    """For a view that writes when it is only read (a page view noted): its transaction may
    write, so SQLite takes the write lock up front instead of failing to upgrade a read,
    and it is committed as a POST's is."""

    @functools.wraps(view)
    def writing(*args, **kwargs):
        g.db_writes_on_read = True
        return view(*args, **kwargs)

    return writing


def read_db() -> Session:
    """The request's read-only session, for what a request reads before it knows whether it
    will write (an API key, a factory's secrets): on SQLite it never takes the write lock,
    so a request turned away never holds up one that writes. Elsewhere a transaction that has
    only read holds nothing a writer waits for, and the request's one session serves: one
    connection and one transaction, not two."""
    if "db_read_session" not in g:
        database = current_app.extensions["db"]
        sqlite = database.engine.dialect.name == "sqlite"
        g.db_read_session = database.session(read_only=True) if sqlite else db()
    return g.db_read_session


def commit_request_session(response: Response) -> Response:
    """Commits the request's transaction once the view has answered with success (2xx, 3xx);
    any other answer leaves it to be rolled back when the session closes, so a refused
    request writes nothing. A commit that fails is answered as the error it is (a JSON
    door's 503 for a database away, the portal's error page), as if the view had raised it."""
    session = g.get("db_session")
    if session is None or not g.db_writes or response.status_code >= 400:
        return response
    try:
        session.commit()
    except Exception as error:
        session.rollback()
        # No handler (the portal's database errors): raised on, as from a view, to a 500.
        return current_app.make_response(current_app.handle_user_exception(error))
    return response


def close_request_session(_exc: BaseException | None = None) -> None:
    # Closing rolls back whatever the view did not commit: a failed request writes nothing.
    for name in ("db_read_session", "db_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def public_base_url() -> str:
    """The base of links we hand out: PUBLIC_URL if set, else the URL this request came in on."""
    return current_app.extensions["chain_collab.config"].public_url or request.url_root.rstrip("/")
