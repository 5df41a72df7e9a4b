"""Schemas of channels, their delivery log, and the chain's own settings."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import marshmallow as ma
from marshmallow import fields, validate

from blueprints.brand_api.schemas import Name, PageArgs
from blueprints.fields import Text
from service.chain.models import Language
from service.channels.models import CHANNEL_TYPES, DEFAULT_RATE_LIMIT, DeliveryState

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="A local time as HH:MM.")


class ChannelCreate(ma.Schema):
    type = fields.String(required=True, validate=validate.OneOf(CHANNEL_TYPES))
    url = Text(
        required=True,
        strip=True,
        validate=validate.Length(min=1, max=2000),
        metadata={
            "description": "http(s), reaching public addresses only: a private or loopback "
            "one is refused (422) unless the server's OUTBOUND_ALLOWED_NETWORKS allows it"
        },
    )
    secret = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "dingtalk_robot: its SEC… signing secret; feishu_robot: its "
            "signing secret; webhook: a whsec_ secret, or leave it out and one is made and "
            "shown once"
        },
    )
    name = Name(blank=True, load_default="", validate=validate.Length(max=100))
    customer_facing = fields.Boolean(
        load_default=None,
        metadata={
            "description": "pushes wait out the chain's quiet hours; default: true for "
            "webhook, false for the robots and slack (they post into staff groups)"
        },
    )
    rate_limit_per_minute = fields.Integer(
        load_default=DEFAULT_RATE_LIMIT, validate=validate.Range(min=1, max=6000)
    )


class ChannelUpdate(ma.Schema):
    url = Text(strip=True, validate=validate.Length(min=1, max=2000))
    secret = Text(allow_none=True, validate=validate.Length(min=1, max=200))
    name = Name(blank=True, validate=validate.Length(max=100))
    customer_facing = fields.Boolean()
    rate_limit_per_minute = fields.Integer(validate=validate.Range(min=1, max=6000))
    state = fields.String(
        validate=validate.OneOf(["active", "paused"]),
        metadata={"description": "'active' resumes a paused or disabled channel"},
    )


def masked_url(url: str) -> str:
    """Robot URLs carry their key in the query (?key=, ?access_token=) or path; the API
    shows enough of them to recognise, not to use."""
    parts = urlsplit(url)
    query = urlencode([(k, v[:4] + "…" if len(v) > 4 else v) for k, v in parse_qsl(parts.query)])
    path = re.sub(r"([A-Za-z0-9_-]{4})[A-Za-z0-9_-]{12,}", r"\1…", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


class Channel(ma.Schema):
    id = fields.UUID()
    group_id = fields.UUID()
    type = fields.String()
    name = fields.String()
    url = fields.Function(lambda channel: masked_url(channel.url))
    customer_facing = fields.Boolean()
    rate_limit_per_minute = fields.Integer()
    state = fields.String(metadata={"description": "active, paused or disabled"})
    state_reason = fields.String(allow_none=True)
    failing_since = fields.DateTime(allow_none=True)
    last_pushed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CreatedChannel(Channel):
    secret = fields.String(
        allow_none=True, metadata={"description": "a webhook channel's made secret, shown once"}
    )


class ChannelList(ma.Schema):
    items = fields.List(fields.Nested(Channel), required=True)


class DeliveryQuery(PageArgs):
    state = fields.String(validate=validate.OneOf([s.value for s in DeliveryState]))


class Attempt(ma.Schema):
    id = fields.UUID()
    push_id = fields.UUID(metadata={"description": "deliveries coalesced into one push share it"})
    started_at = fields.DateTime()
    outcome = fields.String(
        metadata={"description": "delivered, retry, rate_limited, gone, timeout, error or blocked"}
    )
    status_code = fields.Integer(allow_none=True)
    latency_ms = fields.Integer(allow_none=True)
    requests = fields.Integer(metadata={"description": "more than 1 when a text was split"})
    response_excerpt = fields.String()
    error = fields.String(allow_none=True)


class Delivery(ma.Schema):
    id = fields.UUID()
    message_id = fields.UUID()
    state = fields.String(metadata={"description": "pending, sending, delivered or failed"})
    due_at = fields.DateTime()
    held_for = fields.String(
        allow_none=True,
        metadata={
            "description": "why a pending delivery waits: quiet_hours, coalescing, "
            "rate_limit or backoff (a failed push, its own or an older one's); null: not held"
        },
    )
    held_until = fields.DateTime(
        allow_none=True, metadata={"description": "when a held delivery goes; null: not held"}
    )
    failures = fields.Integer(attribute="attempts")
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    attempts = fields.List(fields.Nested(Attempt), attribute="log")


class QuietHours(ma.Schema):
    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)


class ChainSettings(ma.Schema):
    id = fields.UUID(dump_only=True)
    name = Name(validate=validate.Length(min=1, max=200))
    timezone = Text(validate=validate.Length(min=1, max=64))
    language = fields.String(
        validate=validate.OneOf(list(Language)),
        metadata={"description": "the portal's language for members who chose none and whose "
                  "browser names neither; zh-CN (default) or en"},
    )  # fmt: skip
    quiet_hours = fields.Nested(
        QuietHours,
        allow_none=True,
        metadata={"description": "pushes to customer-facing channels wait; null: none"},
    )
    business_hours = fields.Nested(
        QuietHours,
        metadata={
            "description": "the hours reply times are counted in besides the wall clock, local, "
            "every day: start before end (default 09:00-21:00)"
        },
    )
    broadcast_quota = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=1000),
        metadata={"description": "broadcasts a customer receives a month; null: days in month"},
    )
    created_at = fields.DateTime(dump_only=True)
