"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature) checked
against each secret a factory may sign with, and the reason when none fits.

A refused factory is told which of four things went wrong, and nothing else: every check
that does not need the factory's secrets comes first, so an unknown factory and a wrong
secret get the same answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field

TOLERANCE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,15}\Z")
_SIGNATURE_BYTES = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Refusal:
    """Why a request's signature was refused: a code for the 401's body, and what to say."""

    code: str
    message: str
    details: dict = field(default_factory=dict)


MISSING = "signature_missing"
MALFORMED = "signature_malformed"
OUT_OF_RANGE = "timestamp_out_of_range"
MISMATCH = "signature_mismatch"
REFUSALS = (MISSING, MALFORMED, OUT_OF_RANGE, MISMATCH)


def _v1_signatures(header: str) -> list[bytes]:
    """The well-formed `v1,<base64 HMAC-SHA256>` entries of a webhook-signature header. A
    malformed entry, or one of another version, is passed over: it does not void the rest."""
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(signature) == _SIGNATURE_BYTES:
            found.append(signature)
    return found


def _secret_key(secret: str) -> bytes:
    # Secrets are ours (whsec_ + base64); pad like the Standard Webhooks libraries do.
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def refusal(secrets: list[str], body: bytes, headers) -> Refusal | None:
    """None when `body` carries a fresh (±5 minutes) v1 signature by one of `secrets`;
    otherwise why not. `headers` is looked up case-insensitively (Flask's headers are)."""
    values = {name: (headers.get(name) or "").strip() for name in
              ("webhook-id", "webhook-timestamp", "webhook-signature")}  # fmt: skip
    missing = [name for name, value in values.items() if not value]
    if missing:
        return Refusal(MISSING, f"Missing header: {', '.join(missing)}.")
    if not _TIMESTAMP.match(values["webhook-timestamp"]):
        return Refusal(MALFORMED, "webhook-timestamp must be whole seconds since 1970 (UTC).")
    signatures = _v1_signatures(values["webhook-signature"])
    if not signatures:
        return Refusal(
            MALFORMED, "webhook-signature has no entry of the form v1,<base64 HMAC-SHA256>."
        )
    timestamp, now = int(values["webhook-timestamp"]), int(time.time())
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return Refusal(
            OUT_OF_RANGE,
            f"webhook-timestamp is more than {TOLERANCE_SECONDS // 60} minutes from the "
            "server's time: check the sender's clock.",
            {"server_time": now, "tolerance_seconds": TOLERANCE_SECONDS},
        )
    signed = f"{values['webhook-id']}.{timestamp}.".encode() + body
    for secret in secrets:
        expected = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, signature) for signature in signatures):
            return None
    return Refusal(MISMATCH, "No signature matches this body, webhook-id and timestamp.")
