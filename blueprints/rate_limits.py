"""Rate limits (flask-limiter), counted in the app's Redis so that every web process shares them.

The doors declare their limits with `limiter.limit(...)`; create_app calls `init_rate_limits`.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.config import Config
from service.redis_server import embedded_socket

# Behind a trusted proxy (TRUST_PROXY), ProxyFix has already put the client's address here.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")


def storage_uri(redis_url: str) -> str:
    # limits names a unix socket redis+unix://; redis-py (and REDIS_URL) say unix://.
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def init_rate_limits(app: Flask, config: Config) -> None:
    redis = app.extensions["redis"]
    if config.embedded_redis:
        # Start the embedded server before a limited request first needs it (create_app opens
        # nothing); RedisHandle.url starts it unless it already answers.
        app.before_request(_embedded_redis_started)
        url = f"unix://{embedded_socket(config.instance_path)}"
    else:
        url = redis.url
    app.config.update(
        RATELIMIT_STORAGE_URI=storage_uri(url),
        # Several deployments may share one Redis, as they share it for queues.
        RATELIMIT_STORAGE_OPTIONS={"key_prefix": f"{config.queue_name}:limits"},
        # A Redis outage must not lock everyone out, nor answer 500: count in memory meanwhile.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    limiter.init_app(app)


def _embedded_redis_started() -> None:
    if request.method == "POST" and request.endpoint in _LIMITED_ENDPOINTS:
        current_app.extensions["redis"].url  # noqa: B018 (starts the server if need be)


# The endpoints with limits; only their requests need Redis before the view runs.
_LIMITED_ENDPOINTS = frozenset({"dealer_portal.login"})
