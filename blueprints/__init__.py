"""The three doors: brand_api, dealer_portal, factory_webhooks. Thin: parse, call service/,
render."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session


def db() -> Session:
    """The request's session: one transaction per request, committed by the view at its edge."""
    if "db_session" not in g:
        read_only = request.method in ("GET", "HEAD", "OPTIONS")
        g.db_session = current_app.extensions["db"].session(read_only=read_only)
    return g.db_session


def close_request_session(_exc: BaseException | None = None) -> None:
    # Closing rolls back whatever the view did not commit: a failed request writes nothing.
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def public_base_url() -> str:
    """The base of links we hand out: PUBLIC_URL if set, else the URL this request came in on."""
    return current_app.extensions["chain_collab.config"].public_url or request.url_root.rstrip("/")
