"""Schemas of broadcasts. Shape only: that exactly one audience is given, and that the dealer
is the chain's, are rules of service/broadcasts."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from blueprints.fields import Text


class BroadcastCreate(ma.Schema):
    text = Text(required=True, strip=True, validate=validate.Length(min=1, max=4000))
    # Exactly one of tag, dealer_id and all; null (or false) is the same as leaving it out.
    tag = Text(
        strip=True,
        allow_none=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "to every customer with this tag"},
    )
    dealer_id = fields.UUID(
        allow_none=True, metadata={"description": "to every customer of this dealer"}
    )
    all = fields.Boolean(
        load_default=False, metadata={"description": "true: to every customer of the chain"}
    )


class Broadcast(ma.Schema):
    id = fields.UUID()
    text = fields.String()
    audience = fields.Dict(
        metadata={"description": '{"tag": …}, {"dealer_id": …} or {"all": true}'}
    )
    sent = fields.Integer(metadata={"description": "customers whose group it was posted to"})
    skipped_by_quota = fields.Integer(
        metadata={"description": "customers who had had their broadcasts for the month"}
    )
    created_at = fields.DateTime()
