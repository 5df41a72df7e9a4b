"""Sending: one push's requests over HTTP, in order, with no transaction open."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx

from service.channels.urls import BlockedUrl, OutboundPolicy, check_url
from service.db import utcnow
from service.notify import formats

if TYPE_CHECKING:
    from service.notify.leasing import Claim

# Bodies read from a receiver at most: enough for any error message, never a flood.
MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PushSettings:
    timeout: float = 15.0
    # Requests a worker has in flight at once (its sending threads).
    concurrency: int = 1
    coalesce_window: timedelta = timedelta(seconds=10)
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)


@dataclass
class Result:
    """What one push came to."""

    outcome: str  # delivered, retry, rate_limited, gone, timeout, error, blocked
    status_code: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str | None = None
    retry_after: float | None = None
    requests: int = 0

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


def send(client: httpx.Client, push: Claim, settings: PushSettings) -> Result:
    """Send a claimed push's requests in order, stopping at the first that fails. Runs
    outside any transaction."""
    started = time.perf_counter()
    result = Result("delivered")
    for request in push.requests:
        result.requests += 1
        try:
            check_url(request.url, settings.policy)
            with client.stream(
                "POST",
                request.url,
                content=request.body,
                headers=request.headers,
                timeout=settings.timeout,
                follow_redirects=False,
            ) as response:
                body = _read_at_most(response, MAX_REPLY_BYTES)
        except BlockedUrl as error:
            result = Result("blocked", error=error.reason, requests=result.requests)
            break
        except httpx.TimeoutException:
            result = Result("timeout", error=f"No answer in {settings.timeout:g} s.")
            result.requests = len(push.requests)
            break
        except httpx.HTTPError as error:
            result = Result("error", error=f"{type(error).__name__}: {error}"[:300])
            result.requests = len(push.requests)
            break
        reply = formats.read_reply(
            push.channel_type, response.status_code, response.headers, body, now=utcnow()
        )
        result.status_code = response.status_code
        result.excerpt = formats.excerpt(body)
        if not reply.ok:
            result.outcome = (
                "gone" if reply.gone else "rate_limited" if reply.rate_limited else "retry"
            )
            result.error = reply.error
            result.retry_after = reply.retry_after
            break
    result.latency_ms = round((time.perf_counter() - started) * 1000)
    return result


def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
