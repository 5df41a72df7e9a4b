"""When a push may go: backoff after failures, quiet hours, the rate limit, the coalescing
window; pure functions, and `gates`, which reads what they need of a batch of channels."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.channels.models import DeliveryAttempt, HeldFor
from service.db import among

# After the nth failure (1-based) the next attempt waits this long, give or take the jitter;
# past the end of the list, the last step repeats until the channel is paused.
BACKOFF_STEPS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
JITTER = 0.2
# A channel failing this long is paused (and its group told) instead of retried forever.
PAUSE_AFTER = timedelta(hours=24)
# Rate limited without a Retry-After: the robots count a minute.
RATE_LIMITED_WAIT = timedelta(seconds=60)
# A Retry-After longer than this is not believed.
MAX_RETRY_AFTER = timedelta(hours=1)
RATE_WINDOW = timedelta(minutes=1)


def backoff(failures: int, rng: random.Random | None = None) -> timedelta:
    """The wait after `failures` consecutive failures, with ±20 % jitter so that many
    deliveries failing together do not come back together."""
    step = BACKOFF_STEPS[min(max(failures, 1), len(BACKOFF_STEPS)) - 1]
    return step * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def retry_after(seconds: float | None) -> timedelta:
    if seconds is None or seconds <= 0:
        return RATE_LIMITED_WAIT
    return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(
    now: datetime, timezone: str, start: str | None, end: str | None
) -> datetime | None:
    """If `now` falls in the quiet hours [start, end) of `timezone` (a span that may cross
    midnight), the UTC moment they end; otherwise None."""
    if not start or not end or start == end:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    clock = local.time().replace(tzinfo=None)
    inside = begin <= clock < finish if begin < finish else clock >= begin or clock < finish
    if not inside:
        return None
    ends = local.replace(hour=finish.hour, minute=finish.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    # Re-attach the zone so a daylight-saving change overnight lands on the wall-clock hour.
    ends = datetime.combine(ends.date(), finish, tzinfo=ZoneInfo(timezone))
    return ends.astimezone(now.tzinfo)


def rate_limited_until(
    recent: list[tuple[datetime, int]], limit: int, now: datetime
) -> datetime | None:
    """Given the (started_at, requests) of a channel's pushes in the last minute, when the
    next push fits under `limit` requests a minute (None: now)."""
    window = sorted((at, n) for at, n in recent if at > now - RATE_WINDOW)
    used = sum(n for _, n in window)
    if used < limit:
        return None
    # Wait until enough of the oldest pushes leave the window to make room for one request.
    for at, n in window:
        used -= n
        if used < limit:
            return at + RATE_WINDOW
    return now


def gates(
    session: Session, channels: list, chains: dict, now: datetime, coalesce_window: timedelta
) -> dict[uuid.UUID, tuple[datetime, str]]:
    """The channels that may not push yet, and when they may: after the coalescing window of
    their last push, under their rate limit, outside quiet hours if customer-facing; and
    which of these holds them longest."""
    if not channels:
        return {}
    recent: dict[uuid.UUID, list] = {}
    for cid, started, requests in session.execute(
        select(
            DeliveryAttempt.channel_id,
            func.min(DeliveryAttempt.started_at),
            func.max(DeliveryAttempt.requests),
        )
        .where(
            among(session, DeliveryAttempt.channel_id, [c.id for c in channels]),
            DeliveryAttempt.started_at > now - RATE_WINDOW,
        )
        .group_by(DeliveryAttempt.channel_id, DeliveryAttempt.push_id)
    ):
        recent.setdefault(cid, []).append((started, requests))
    gates = {}
    for channel in channels:
        waits = []
        if channel.last_pushed_at and now < channel.last_pushed_at + coalesce_window:
            waits.append((channel.last_pushed_at + coalesce_window, HeldFor.COALESCING))
        limited = rate_limited_until(recent.get(channel.id, []), channel.rate_limit_per_minute, now)
        if limited:
            waits.append((limited, HeldFor.RATE_LIMIT))
        if channel.customer_facing:
            chain = chains[channel.chain_id]
            quiet = quiet_until(now, chain.timezone, chain.quiet_hours_start, chain.quiet_hours_end)
            if quiet:
                waits.append((quiet, HeldFor.QUIET_HOURS))
        if waits:
            gates[channel.id] = max(waits)
    return gates
