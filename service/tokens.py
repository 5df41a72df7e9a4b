"""Secrets handed out once (API keys, invitation codes, set-password and customer links) are
kept only as their SHA-256: a copy of the database opens nothing."""

from __future__ import annotations

import hashlib


def secret_hash(secret: str) -> str:
    """The hex SHA-256 a secret is stored and looked up by. Any text hashes (a lone surrogate
    from a URL included), so that an odd one is simply not found."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
