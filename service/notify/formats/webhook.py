"""A brand's own callback URL: one Standard Webhooks signed request per message, whose
`webhook-id` is the delivery's idempotency key (the same on a retry, a new one on a replay)."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

from service.errors import Invalid
from service.notify.formats.outgoing import USER_AGENT, HttpRequest, OutgoingMessage, dumps, iso

RATE_LIMIT_CODES: frozenset[int] = frozenset()
# Any 2xx is a success; the body is not read for a result code.
ANSWERS_WITH_CODE = False

_WHSEC = "whsec_"


def requests(
    url: str, secret: str | None, messages: list[OutgoingMessage], *, timezone: str, now: datetime
) -> list[HttpRequest]:
    if not secret:
        raise ValueError("a webhook channel is signed: it needs its whsec_ secret")
    return [_request(url, secret, message, now) for message in messages]


def _request(url: str, secret: str, message: OutgoingMessage, now: datetime) -> HttpRequest:
    body = {
        "type": "message.posted",
        "timestamp": iso(now),
        "data": {
            "group": {"id": message.group_id, "name": message.group_name},
            "message": {
                "id": message.message_id,
                "kind": message.kind,
                "sender": message.sender,
                "sender_name": message.sender_name,
                "text": message.text,
                "payload": message.payload,
                "created_at": iso(message.created_at),
            },
        },
    }
    payload = dumps(body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message.key,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message.key, now, payload.decode()),
    }
    return HttpRequest(url=url, headers=headers, body=payload)


def valid_secret(secret: str) -> str:
    reason = "A webhook secret is whsec_ followed by base64 of 24 to 64 random bytes."
    if not secret.startswith(_WHSEC):
        raise Invalid.field("secret", reason)
    encoded = secret.removeprefix(_WHSEC)
    try:
        # Unpadded base64 is accepted, as the Standard Webhooks libraries accept it.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid.field("secret", reason) from None
    # Standard Webhooks: a symmetric secret is random, at least 24 bytes, at most 64.
    if not 24 <= len(key) <= 64:
        raise Invalid.field("secret", reason)
    return _WHSEC + base64.b64encode(key).decode()


def new_secret() -> str:
    return _WHSEC + base64.b64encode(secrets.token_bytes(24)).decode()
