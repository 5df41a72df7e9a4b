"""marshmallow schemas of the brand API: separate input and output schemas per resource.
They validate shape only; rules that need the database live in service/."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from blueprints.fields import Text
from service.chain.mobiles import normalise_mobile
from service.chain.models import MemberRole
from service.errors import Invalid
from service.names import INVISIBLE_REASON, BadName, normalise_name
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Name(Text):
    """A name a person gives something, normalised by service.names: NFC, invisible format
    characters (bidirectional controls, zero-width spaces) removed, whitespace collapsed;
    refused when a control character or nothing visible is left. blank: a name left empty
    (or only invisible) is allowed, as "" (no name)."""

    def __init__(self, *args, blank: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.blank = blank

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_name(text)
        except BadName as error:
            if self.blank and str(error) == INVISIBLE_REASON:
                return ""
            raise ma.ValidationError(str(error)) from None


class Mobile(Text):
    """A mobile number, checked (and answered) as the domain stores it, E.164: here, so that
    a bad number is reported with the request's other bad fields, not after them."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_mobile(text)
        except Invalid as error:
            raise ma.ValidationError(error.details["fields"]["mobile"]) from None


NAME = {"required": True, "validate": validate.Length(min=1, max=200)}


class PageArgs(ma.Schema):
    cursor = Text(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{"items": [...], "next_cursor": "..." | null}: null when this is the last page."""
    return ma.Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


# Organisations


class OrganisationCreate(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["dealer", "factory"]))
    name = Name(**NAME)
    custom_id = Text(validate=validate.Length(min=1, max=100))
    group_ids = fields.List(fields.UUID(), load_default=list)


class OrganisationUpdate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=200))
    custom_id = Text(validate=validate.Length(min=1, max=100))
    group_ids = fields.List(fields.UUID(), metadata={"description": "replaces the whole set"})


class OrganisationQuery(PageArgs):
    kind = fields.String(validate=validate.OneOf(["brand", "dealer", "factory"]))
    group_id = fields.UUID(metadata={"description": "in this group or any group below it"})


class Organisation(ma.Schema):
    id = fields.UUID()
    kind = fields.String()
    name = fields.String()
    custom_id = fields.String(allow_none=True)
    group_ids = fields.List(fields.UUID())
    created_at = fields.DateTime()
    webhook_url = fields.String(
        metadata={"description": "factories: where to POST progress events"}
    )


class CreatedOrganisation(Organisation):
    webhook_secret = fields.String(
        metadata={"description": "factories: the signing secret, shown this once"}
    )


class RotatedSecret(ma.Schema):
    webhook_secret = fields.String(metadata={"description": "shown this once"})
    webhook_url = fields.String()
    previous_secret_expires_at = fields.DateTime()


# Members


class MemberCreate(ma.Schema):
    name = Name(**NAME)
    role = fields.String(required=True, validate=validate.OneOf(list(MemberRole)))
    mobile = Mobile(validate=validate.Length(min=3, max=32))
    email = fields.Email(validate=validate.Length(max=254))
    password = fields.String(
        load_only=True,
        validate=validate.Length(min=8, max=200),
        metadata={"description": "sets the member's portal login (e-mail + password)"},
    )


class MemberUpdate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(list(MemberRole)))
    mobile = Mobile(allow_none=True, validate=validate.Length(min=3, max=32))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class Member(ma.Schema):
    id = fields.UUID()
    organisation_id = fields.UUID()
    name = fields.String()
    role = fields.String()
    mobile = fields.String(allow_none=True, metadata={"description": "E.164"})
    email = fields.String(allow_none=True)
    can_log_in = fields.Function(lambda member: member.password_hash is not None)
    created_at = fields.DateTime()


class PasswordLinkCreate(ma.Schema):
    expires_in_hours = fields.Integer(load_default=72, validate=validate.Range(min=1, max=720))


class PasswordLink(ma.Schema):
    id = fields.UUID()
    member_id = fields.UUID()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    url = fields.String(
        metadata={
            "description": "where the member sets a portal password, once; shown this once "
            "(a newer link replaces it)"
        }
    )


# Invitations


class InvitationCreate(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["dealer", "factory"]))
    expires_in_hours = fields.Integer(load_default=72, validate=validate.Range(min=1, max=720))
    group_ids = fields.List(
        fields.UUID(), load_default=list, metadata={"description": "placed here on joining"}
    )


class Invitation(ma.Schema):
    id = fields.UUID()
    kind = fields.String()
    status = fields.String(metadata={"description": "pending, accepted or expired"})
    group_ids = fields.List(fields.String())
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    organisation_id = fields.UUID(allow_none=True)


class CreatedInvitation(Invitation):
    code = fields.String(metadata={"description": "shown this once"})
    url = fields.String(metadata={"description": "the join page in the dealer portal"})


# Directory groups and visibility rules


class DirectoryGroupCreate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=100))
    parent_id = fields.UUID(allow_none=True)
    path = Text(
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "'East/Shanghai/Pudong': finds or creates every level"},
    )

    @ma.validates_schema
    def _name_or_path(self, data, **_kwargs):
        if ("path" in data) == ("name" in data):
            raise ma.ValidationError("Give either name (with parent_id) or path.", "name")
        if "path" in data and data.get("parent_id"):
            raise ma.ValidationError("A path starts at the root; drop parent_id.", "parent_id")


class DirectoryGroupUpdate(ma.Schema):
    name = Name(validate=validate.Length(min=1, max=100))
    parent_id = fields.UUID(
        allow_none=True, metadata={"description": "move under this group; null moves to the root"}
    )


class DirectoryGroupQuery(PageArgs):
    parent_id = fields.UUID()


class DirectoryGroup(ma.Schema):
    id = fields.UUID()
    name = fields.String()
    path = fields.String()
    parent_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class VisibilityRuleCreate(ma.Schema):
    viewer_group_id = fields.UUID(required=True)
    visible_group_id = fields.UUID(required=True)


class VisibilityRule(ma.Schema):
    id = fields.UUID()
    viewer_group_id = fields.UUID()
    visible_group_id = fields.UUID()
    created_at = fields.DateTime()


# The shared directory


class DirectoryQuery(PageArgs):
    viewer_member_id = fields.UUID(
        metadata={"description": "see the directory as this member does; omit for the full view"}
    )
    organisation_id = fields.UUID()


class OrganisationRef(ma.Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String()


class DirectoryEntry(ma.Schema):
    id = fields.UUID()
    name = fields.String()
    role = fields.String()
    mobile = fields.String(
        allow_none=True, metadata={"description": "masked outside the viewer's organisation"}
    )
    email = fields.String(allow_none=True)
    organisation = fields.Nested(OrganisationRef)


# Imports


class ImportRequest(ma.Schema):
    organisations = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(min=1, max=50_000),
        metadata={
            "description": "each {custom_id, kind, name, groups: [path], members: "
            "[{name, role, mobile?, email?}]}; every row is checked on its own"
        },
    )


class ImportProblem(ma.Schema):
    row = fields.Integer(metadata={"description": "1-based row (CSV: line number)"})
    custom_id = fields.String(allow_none=True)
    field = fields.String()
    reason = fields.String()


class ImportRowResult(ma.Schema):
    row = fields.Integer()
    custom_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "created, updated, unchanged or failed"})
    organisation_id = fields.UUID(allow_none=True)


class Import(ma.Schema):
    id = fields.UUID()
    source = fields.String()
    created_at = fields.DateTime()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    failed = fields.Integer()
    errors = fields.List(fields.Nested(ImportProblem))


class ImportResult(Import):
    results = fields.List(fields.Nested(ImportRowResult))


def columns_of(row) -> dict:
    """A model row's columns as a dict, to extend with what its output schema adds."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}
