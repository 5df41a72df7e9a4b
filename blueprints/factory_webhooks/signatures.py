"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature), checked
with the standardwebhooks library against each secret a factory may sign with."""

from __future__ import annotations

import binascii

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def signed_by_any(secrets: list[str], body: bytes, headers: dict[str, str]) -> bool:
    """Whether `body` carries a valid, fresh (±5 minutes) signature by one of `secrets`.
    Any signature in the header may match; the comparison is constant-time."""
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
            # The library lets malformed headers and bodies through as these; all mean "no".
            continue
        return True
    return False
