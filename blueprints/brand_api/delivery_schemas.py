"""Schemas of the delivery side of the API: customers, orders, group templates, delivery
groups, messages and handovers. Shape only; rules that need the database live in service/."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from blueprints import public_base_url
from blueprints.brand_api.schemas import NAME, Mobile, Name, PageArgs
from blueprints.fields import Text, UtcDateTime
from service.groups.templates import JOINING_ROLES
from service.pagination import encode_cursor
from service.progress.milestones import MILESTONES

PROMISED = (
    "the date promised to the customer, with its offset: not before the order was placed, "
    "at most two years ahead"
)

# Customers


class CustomerCreate(ma.Schema):
    name = Name(**NAME)
    mobile = Mobile(required=True, validate=validate.Length(min=3, max=32))
    dealer_id = fields.UUID(required=True)
    owner_member_id = fields.UUID(
        required=True, metadata={"description": "the dealer's member who serves the customer"}
    )
    tags = fields.List(Text(validate=validate.Length(max=50)), load_default=list)
    notes = Text(load_default="", validate=validate.Length(max=4000))


class CustomerUpdate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=200))
    mobile = Mobile(validate=validate.Length(min=3, max=32))
    tags = fields.List(Text(validate=validate.Length(max=50)))
    notes = Text(validate=validate.Length(max=4000))


class CustomerQuery(PageArgs):
    dealer_id = fields.UUID()
    owner_member_id = fields.UUID()


class Customer(ma.Schema):
    id = fields.UUID()
    name = fields.String()
    mobile = fields.String(metadata={"description": "E.164"})
    dealer_id = fields.UUID()
    owner_member_id = fields.UUID()
    tags = fields.List(fields.String())
    notes = fields.String()
    group_id = fields.UUID(allow_none=True, metadata={"description": "after the first order"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


# Orders and work items


class ItemCreate(ma.Schema):
    factory_id = fields.UUID(required=True)
    description = Text(required=True, strip=True, validate=validate.Length(min=1, max=500))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))
    factory_reference = Text(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the factory's own name for it, usable in its webhooks"},
    )
    promised_at = UtcDateTime(
        metadata={"description": PROMISED + "; this item's own, else the order's holds"}
    )


class OrderCreate(ma.Schema):
    customer_id = fields.UUID(required=True)
    dealer_id = fields.UUID(required=True)
    reference = Text(
        required=True,
        strip=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "unique in the chain; repeating a request is safe"},
    )
    items = fields.List(
        fields.Nested(ItemCreate), required=True, validate=validate.Length(min=1, max=200)
    )
    promised_at = UtcDateTime(metadata={"description": PROMISED + ", for the whole order"})


class PromiseChange(ma.Schema):
    promised_at = UtcDateTime(
        allow_none=True,
        metadata={"description": PROMISED + "; null: none (for a work item: the order's holds)"},
    )
    reason = Text(
        load_default="",
        strip=True,
        validate=validate.Length(max=1000),
        metadata={
            "description": "why the promise changes, kept in the timeline; needed when a promise "
            "is changed or withdrawn, not when one is first made"
        },
    )


class WorkItemUpdate(PromiseChange):
    """A work item's own promise."""


class OrderUpdate(PromiseChange):
    installation_at = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "the installation appointment, with its offset; null: none. Not "
            "before the order was placed, at most two years ahead"
        },
    )


class OrderQuery(PageArgs):
    dealer_id = fields.UUID()
    customer_id = fields.UUID()
    factory_id = fields.UUID()
    milestone = fields.String(validate=validate.OneOf(MILESTONES))


class WorkItem(ma.Schema):
    id = fields.UUID()
    factory_id = fields.UUID()
    position = fields.Integer()
    description = fields.String()
    quantity = fields.Integer()
    factory_reference = fields.String(allow_none=True)
    milestone = fields.String()
    milestone_at = fields.DateTime()
    eta = fields.DateTime(allow_none=True)
    promised_at = fields.DateTime(allow_none=True, metadata={"description": "its own promise"})
    promise = fields.DateTime(
        allow_none=True,
        metadata={"description": "the date promised for it: its own, else the order's"},
    )


class TimelineEntry(ma.Schema):
    id = fields.UUID()
    work_item_id = fields.UUID(allow_none=True, metadata={"description": "null: the order's"})
    kind = fields.String(
        metadata={
            "description": "milestone: progress reported; promise: the promised date changed "
            "(promised_at, null when withdrawn; the reason in note), at the milestone then"
        }
    )
    milestone = fields.String()
    actor = fields.String()
    occurred_at = fields.DateTime()
    note = fields.String()
    eta = fields.DateTime(allow_none=True)
    late = fields.Boolean(metadata={"description": "behind what was known: changed nothing"})
    promised_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class OrderSummary(ma.Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    dealer_id = fields.UUID()
    reference = fields.String()
    milestone = fields.String(metadata={"description": "its least advanced work item's"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime(
        metadata={"description": "when it was placed or its milestone last moved"}
    )
    installation_at = fields.DateTime(
        allow_none=True, metadata={"description": "the installation appointment, if one is made"}
    )
    promised_at = fields.DateTime(
        allow_none=True, metadata={"description": "the date promised for the whole order"}
    )


class Order(OrderSummary):
    group_id = fields.UUID(allow_none=True)
    items = fields.List(fields.Nested(WorkItem))
    timeline = fields.List(fields.Nested(TimelineEntry))


class ProgressCreate(ma.Schema):
    milestone = fields.String(required=True, validate=validate.OneOf(MILESTONES))
    occurred_at = UtcDateTime(
        metadata={
            "description": "default: now; at most a day ahead, not before the work item was created"
        }
    )
    note = Text(load_default="", validate=validate.Length(max=1000))
    eta = UtcDateTime(metadata={"description": "expected completion; not before occurred_at"})


class Progress(ma.Schema):
    moved = fields.Boolean(metadata={"description": "false: late or repeated, recorded only"})
    work_item = fields.Nested(WorkItem)
    order_milestone = fields.String()


# Group templates


class AutoReply(ma.Schema):
    keyword = Text(required=True, validate=validate.Length(min=1, max=100))
    reply = Text(required=True, validate=validate.Length(min=1, max=1000))


class BlockedWord(ma.Schema):
    word = Text(required=True, validate=validate.Length(min=1, max=100))
    action = fields.String(load_default="block", validate=validate.OneOf(["block", "warn"]))


# When a template's edit takes effect (service.groups.templates.LIVE_SETTINGS).
AT_ONCE = " Applies at once to every group made from this template."
NEW_GROUPS = " Applies to groups made from then on; groups made already keep theirs."


class GroupTemplateUpdate(ma.Schema):
    name = Name(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the template's own name, for you"},
    )
    name_pattern = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the group's name; placeholders: {customer_name} "
                  "{dealer_name} {owner_name} {brand_name}." + NEW_GROUPS},
    )  # fmt: skip
    welcome_message = Text(
        validate=validate.Length(max=2000),
        metadata={
            "description": "the group's first message: the same placeholders, and "
            "{customer_link}, replaced by the URL of a new private link of the customer's "
            "(as POST /customers/{id}/links makes, valid 90 days; revoke it there) — under "
            "PUBLIC_URL, or its path alone (/c/...) when the server has none. Any other "
            "{...} is a 422; write {{ and }} for braces." + NEW_GROUPS
        },
    )
    member_roles = fields.List(
        fields.String(validate=validate.OneOf(JOINING_ROLES)),
        metadata={
            "description": "roles of the dealer's members who join each new group; the "
            "customer and their owner always have seats ('owner' may be listed, to no "
            "effect)." + NEW_GROUPS
        },
    )
    rename_locked = fields.Boolean(
        metadata={
            "description": "whether the group's name is locked (PATCH /groups/{id} changes "
            "one group's)." + NEW_GROUPS
        }
    )
    auto_replies = fields.List(
        fields.Nested(AutoReply),
        validate=validate.Length(max=100),
        metadata={"description": "a message that mentions a keyword is answered." + AT_ONCE},
    )
    blocked_words = fields.List(
        fields.Nested(BlockedWord),
        validate=validate.Length(max=500),
        metadata={
            "description": "a message with one is refused (block) or kept flagged (warn)." + AT_ONCE
        },
    )
    contact_action = fields.String(
        validate=validate.OneOf(["block", "warn", "allow"]),
        metadata={"description": "on a mobile number or e-mail address in a message." + AT_ONCE},
    )
    member_cap = fields.Integer(
        validate=validate.Range(min=2, max=500),
        metadata={"description": "most seats in a group." + NEW_GROUPS},
    )


class GroupTemplateCreate(GroupTemplateUpdate):
    directory_group_id = fields.UUID(
        load_default=None,
        metadata={"description": "for dealers in this group; omit to set the chain's default"},
    )


class GroupTemplate(GroupTemplateCreate):
    id = fields.UUID()
    is_default = fields.Function(lambda template: template.directory_group_id is None)
    created_at = fields.DateTime()


# Delivery groups and messages


class GroupQuery(PageArgs):
    dealer_id = fields.UUID()
    member_id = fields.UUID(metadata={"description": "groups this member has a seat in"})


class GroupUpdate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=200))
    rename_locked = fields.Boolean()


class Seat(ma.Schema):
    member_id = fields.UUID(allow_none=True, metadata={"description": "null: the customer"})
    role = fields.String(metadata={"description": "customer, owner or member"})
    added_at = fields.DateTime()


class Group(ma.Schema):
    id = fields.UUID()
    name = fields.String()
    customer_id = fields.UUID()
    dealer_id = fields.UUID()
    owner_member_id = fields.UUID()
    template_id = fields.UUID()
    rename_locked = fields.Boolean()
    member_cap = fields.Integer()
    member_count = fields.Integer()
    created_at = fields.DateTime()


class GroupDetail(Group):
    seats = fields.List(fields.Nested(Seat))


class SeatCreate(ma.Schema):
    member_id = fields.UUID(required=True)


class MessageQuery(PageArgs):
    since = Text(
        metadata={"description": "a message's cursor: the messages after it, oldest first"}
    )


class MessageCreate(ma.Schema):
    text = Text(required=True, strip=True, validate=validate.Length(min=1, max=4000))
    sender = fields.String(required=True, validate=validate.OneOf(["member", "customer"]))
    sender_member_id = fields.UUID(metadata={"description": "required when sender is member"})
    client_message_id = Text(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "posting twice with the same id stores the message once"},
    )


class Attachment(ma.Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "image or pdf"})
    name = fields.String(attribute="file_name")
    size = fields.Integer(metadata={"description": "bytes"})
    content_type = fields.String(metadata={"description": "as read from the file's content"})
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    url = fields.Function(
        lambda attachment: (
            public_base_url()
            + url_for("dealer_portal.attachment_file", attachment_id=attachment.id)
        ),
        metadata={"description": "the portal's download: it asks a member to sign in"},
    )


class Message(ma.Schema):
    id = fields.UUID()
    cursor = fields.Function(lambda message: encode_cursor(message.id))
    group_id = fields.UUID()
    sender = fields.String(metadata={"description": "member, customer or system"})
    sender_member_id = fields.UUID(allow_none=True)
    kind = fields.String(
        metadata={"description": "text, welcome, notification, auto_reply or notice"}
    )
    text = fields.String()
    payload = fields.Dict(allow_none=True)
    client_message_id = fields.String(allow_none=True)
    flagged = fields.Boolean()
    flag_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    attachments = fields.List(fields.Nested(Attachment), metadata={"description": "photos, PDFs"})


class PostedMessages(ma.Schema):
    items = fields.List(
        fields.Nested(Message), metadata={"description": "the message, then any auto-reply"}
    )


class ExportQuery(ma.Schema):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(["jsonl", "csv"]))


# Handovers


class HandoverCreate(ma.Schema):
    from_member_id = fields.UUID(required=True)
    to_member_id = fields.UUID(required=True)


class Handover(ma.Schema):
    customers = fields.Integer()
    groups = fields.Integer()
    audit_entry_id = fields.UUID()
