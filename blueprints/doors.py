"""Where each door is mounted: what the modules shared by the doors need to tell them apart
(the JSON doors' errors, the docs page's policy) or to link to one (a factory's webhook URL, a
customer's link),
without a door importing another."""

from __future__ import annotations

import uuid

from service.customers.links import PATH_PREFIX, link_url

API_PREFIX = "/api/v1"
DOCS_PATH = f"{API_PREFIX}/docs"
WEBHOOKS_PREFIX = "/webhooks"
PROGRESS_PATH = WEBHOOKS_PREFIX + "/factories/{factory_id}/progress"
CUSTOMER_LINK_PREFIX = PATH_PREFIX


def is_json_door(path: str) -> bool:
    """Whether a request's path belongs to a door that answers in JSON (the brand API, the
    factories' webhooks); the portal answers with pages."""
    return path.startswith((API_PREFIX, WEBHOOKS_PREFIX))


def progress_url(base_url: str, factory_id: uuid.UUID) -> str:
    """The URL a factory posts its progress events to."""
    return base_url.rstrip("/") + PROGRESS_PATH.format(factory_id=factory_id)


def customer_link_url(base_url: str, token: str) -> str:
    """The private link that opens one customer's view (see service.customers.links)."""
    return link_url(base_url, token)
