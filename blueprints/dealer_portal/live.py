"""Messages as they come, for the pages that show a delivery group live: the portal's group
page and the customer's link. Both stream the same way (server-sent events with Last-Event-ID
replay from the database, woken by the group's Redis channel) and answer polls with the same
fragments; each says who reads, and so which messages and how they look.

A stream holds no database connection while it waits: it subscribes to the group's Redis
channel (a commit that wrote messages in the group publishes on it), waits there with a
timeout, and on each wake reads what came after the last message it sent."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Response, current_app, stream_with_context
from flask_babel import get_locale

from blueprints import close_request_session
from blueprints.dealer_portal.refusals import reasons_of, say
from service.groups.moderation import stored_reason

# How a stream waits (app.config, so that tests can shorten them): a comment every
# HEARTBEAT seconds keeps proxies from closing a quiet stream; after LIFETIME seconds the
# stream ends and the browser reconnects with Last-Event-ID, its access checked again.
HEARTBEAT = "PORTAL_EVENTS_HEARTBEAT_SECONDS"
LIFETIME = "PORTAL_EVENTS_LIFETIME_SECONDS"
DEFAULTS = {HEARTBEAT: 15.0, LIFETIME: 300.0}
# The browser's wait before reconnecting a stream that ended (milliseconds).
RETRY_MS = 2000
BATCH = 100


def _setting(name: str) -> float:
    return float(current_app.config.get(name, DEFAULTS[name]))


def position(value: str | None) -> uuid.UUID | None:
    """A message id given by the client (Last-Event-ID, ?after=); None if it is not one."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def before(message_id: uuid.UUID) -> uuid.UUID:
    """The position just before a message: what comes after it starts with that message."""
    return uuid.UUID(int=message_id.int - 1)


class Times:
    """Times in the chain's time zone, written the reader's way."""

    def __init__(self, timezone: str):
        self.zone = ZoneInfo(timezone)
        self.locale = str(get_locale() or "en")

    def __call__(self, moment) -> str:
        return format_datetime(moment, "short", tzinfo=self.zone, locale=self.locale)


def moderation_reason(reason: str | None) -> str:
    """A flagged message's reason, as it is stored, in the reader's language."""
    return say(stored_reason(reason)) if reason else ""


def refusal_reasons(refusal) -> list[str]:
    """Why a message was refused (an Invalid from posting it), in the reader's language."""
    return reasons_of(refusal, "text")


def fragment(template_name: str, line, times: Times, attachment_url: Callable) -> str:
    """One message as its page lists it; `attachment_url(endpoint, attachment)` names its
    files' downloads. Rendered without the portal's context processors: a stream holds no
    database session, and nothing here needs one."""
    template = current_app.jinja_env.get_template(template_name)
    return template.render(
        line=line, when=times, moderation_reason=moderation_reason, attachment_url=attachment_url
    )


def items(template_name: str, lines: Sequence, times: Times, attachment_url: Callable) -> list:
    """Messages as the script adds them: their id and their fragment."""
    return [
        {"id": str(line.id), "html": fragment(template_name, line, times, attachment_url)}
        for line in lines
    ]


def event_stream(
    read_after: Callable[[uuid.UUID | None], Sequence | None],
    *,
    after: uuid.UUID | None,
    channel: str,
    render: Callable[[object], str],
) -> Response:
    """Server-sent events: each message after `after`, then each new one as it comes; `id:`
    is the message's id, so a reconnect resumes where it stopped. `read_after(position)`
    opens its own session and returns the messages after a position, or None when the reader
    may no longer see them (the stream then ends)."""
    redis = current_app.extensions["redis"].client
    heartbeat, lifetime = _setting(HEARTBEAT), _setting(LIFETIME)
    # Nothing of the database is held while the stream is open.
    close_request_session()

    def stream():
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        # Subscribed before the first read: a commit between the two is not missed.
        pubsub.subscribe(channel)
        try:
            yield f"retry: {RETRY_MS}\n\n"
            at, deadline = after, time.monotonic() + lifetime
            while True:
                lines = read_after(at)
                if lines is None:
                    return
                for line in lines:
                    data = json.dumps({"id": str(line.id), "html": render(line)})
                    yield f"id: {line.id}\ndata: {data}\n\n"
                    at = line.id
                if len(lines) == BATCH:
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if _wait(pubsub, min(heartbeat, left)):
                    continue
                yield ": still here\n\n"
        finally:
            pubsub.close()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _wait(pubsub, timeout: float) -> bool:
    """Whether the group was woken within `timeout` seconds. Every wake waiting is taken:
    one read of the database answers them all."""
    deadline = time.monotonic() + timeout
    # None also comes back at once for what is not a wake (the subscription's confirmation).
    while (left := deadline - time.monotonic()) > 0:
        if pubsub.get_message(timeout=left) is not None:
            while pubsub.get_message(timeout=0) is not None:
                pass
            return True
    return False
