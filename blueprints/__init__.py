"""The three doors: brand_api, dealer_portal, factory_webhooks. Thin: parse, call service/,
render."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session


def db() -> Session:
    """The request's session: one transaction per request, committed by the view at its edge."""
    if "db_session" not in g:
        # What was read before is done with: the read-only transaction ends before this one
        # begins, so the two never overlap.
        reading = g.get("db_read_session")
        if reading is not None:
            reading.close()
        read_only = request.method in ("GET", "HEAD", "OPTIONS")
        g.db_session = current_app.extensions["db"].session(read_only=read_only)
    return g.db_session


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


def close_request_session(_exc: BaseException | None = None) -> None:
    # Closing rolls back whatever the view did not commit: a failed request writes nothing.
    for name in ("db_read_session", "db_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def public_base_url() -> str:
    """The base of links we hand out: PUBLIC_URL if set, else the URL this request came in on."""
    return current_app.extensions["chain_collab.config"].public_url or request.url_root.rstrip("/")
