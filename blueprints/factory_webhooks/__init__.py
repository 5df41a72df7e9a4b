"""/webhooks: signed progress reports from factories (the endpoint lands with the pipeline)."""

from __future__ import annotations

import uuid

from flask import Blueprint

bp = Blueprint("factory_webhooks", __name__, url_prefix="/webhooks")

PROGRESS_PATH = "/webhooks/factories/{factory_id}/progress"


def progress_url(base_url: str, factory_id: uuid.UUID) -> str:
    """The URL a factory posts its progress events to."""
    return base_url.rstrip("/") + PROGRESS_PATH.format(factory_id=factory_id)
