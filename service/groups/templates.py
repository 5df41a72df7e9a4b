"""Group templates: how a delivery group is named, who joins it, how it is moderated."""

from __future__ import annotations

import string
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.models import Chain, DirectoryGroup, MemberRole, OrganisationGroup
from service.db import get_in_chain
from service.errors import Conflict, Invalid
from service.groups.models import DEFAULT_MEMBER_CAP, GroupTemplate
from service.pagination import Page, paginate
from service.system_texts import N_, say

PLACEHOLDERS = ("customer_name", "dealer_name", "owner_name", "brand_name")
# The welcome may carry the customer's private link; a group's name, seen by everyone and
# pushed to every channel as the group's title, may not.
WELCOME_PLACEHOLDERS = (*PLACEHOLDERS, "customer_link")
# Roles of the dealer's members who join each new group. The customer and their owner always
# have seats; "owner" is still accepted (and changes nothing) for templates that name it.
JOINING_ROLES = ("owner", *(role.value for role in MemberRole))
ACTIONS = ("block", "warn")
# When an edit of a template takes effect. Moderation is read from the template on every
# message, so it changes at once in every group made from it; the rest is copied into a
# group when it is made (its name, seats, lock, cap, first message), so groups made already
# keep theirs.
LIVE_SETTINGS = ("blocked_words", "contact_action", "auto_replies")
NEW_GROUP_SETTINGS = (
    "name_pattern",
    "welcome_message",
    "member_roles",
    "rename_locked",
    "member_cap",
)

# The default template's welcome, in the chain's language when the template is made.
WELCOME = N_(
    "Welcome, {customer_name}! {owner_name} of {dealer_name} and the team who will design, "
    "make and install your order are all here. Every step will be posted in this group as "
    "it happens."
)
DEFAULTS = {
    "name": "Default",
    "name_pattern": "{customer_name}·{dealer_name}",
    "welcome_message": WELCOME,
    "member_roles": ["owner", "designer", "installer"],
    "rename_locked": True,
    "auto_replies": [],
    "blocked_words": [],
    "contact_action": "warn",
    "member_cap": DEFAULT_MEMBER_CAP,
}


def _defaults(session: Session, chain_id: uuid.UUID) -> dict:
    """DEFAULTS, the welcome in the chain's language."""
    language = session.get(Chain, chain_id).language
    return {**DEFAULTS, "welcome_message": say(language, WELCOME)}


def render(pattern: str, values: dict[str, str]) -> str:
    return pattern.format_map(values)


def _check_pattern(pattern: str, field: str, known: tuple[str, ...] = PLACEHOLDERS) -> str:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(pattern)
            if name is not None
        ]
    except ValueError as error:
        raise Invalid.field(field, f"Not a valid pattern: {error}.") from None
    unknown = [name for name, _, _ in fields if name not in known]
    if unknown:
        names = ", ".join("{" + name + "}" for name in known)
        raise Invalid.field(field, f"Unknown placeholder {{{unknown[0]}}}; use {names}.")
    # A spec or conversion is applied to every group made later: `:d` fails on text, and a
    # width of `:>999999999` builds a string of that size.
    if any(spec or conversion for _, spec, conversion in fields):
        raise Invalid.field(field, "Placeholders take no format spec or conversion.")
    return pattern


def _check(values: dict) -> dict:
    if "name_pattern" in values:
        _check_pattern(values["name_pattern"], "name_pattern")
        if not render(values["name_pattern"], dict.fromkeys(PLACEHOLDERS, "x")).strip():
            raise Invalid.field("name_pattern", "Must produce a name.")
    if "welcome_message" in values:
        _check_pattern(values["welcome_message"], "welcome_message", WELCOME_PLACEHOLDERS)
    for role in values.get("member_roles", []):
        if role not in JOINING_ROLES:
            raise Invalid.field("member_roles", f"Unknown role {role!r}.")
    if "member_roles" in values:
        values["member_roles"] = list(dict.fromkeys(values["member_roles"]))
    if "auto_replies" in values:
        values["auto_replies"] = [
            {"keyword": rule["keyword"].strip(), "reply": rule["reply"].strip()}
            for rule in values["auto_replies"]
        ]
        if any(not rule["keyword"] or not rule["reply"] for rule in values["auto_replies"]):
            raise Invalid.field("auto_replies", "Each needs a keyword and a reply.")
    if "blocked_words" in values:
        values["blocked_words"] = [
            {"word": rule["word"].strip(), "action": rule.get("action", "block")}
            for rule in values["blocked_words"]
        ]
        for rule in values["blocked_words"]:
            if not rule["word"]:
                raise Invalid.field("blocked_words", "A blocked word must not be blank.")
            if rule["action"] not in ACTIONS:
                raise Invalid.field("blocked_words", "Action must be 'block' or 'warn'.")
    return values


def default_template(session: Session, chain_id: uuid.UUID) -> GroupTemplate:
    """The chain's default template, made from DEFAULTS the first time it is needed."""
    template = session.scalar(
        select(GroupTemplate).where(
            GroupTemplate.chain_id == chain_id, GroupTemplate.directory_group_id.is_(None)
        )
    )
    if template is None:
        template = GroupTemplate(chain_id=chain_id, **_defaults(session, chain_id))
        session.add(template)
        session.flush()
    return template


def create_template(
    session: Session, *, chain_id: uuid.UUID, directory_group_id: uuid.UUID | None, **values
) -> GroupTemplate:
    """A template for the dealers in a directory group; without a group, it replaces the
    settings of the chain's default template."""
    values = _check({**_defaults(session, chain_id), **values})
    if directory_group_id is None:
        template = default_template(session, chain_id)
        for key, value in values.items():
            setattr(template, key, value)
        session.flush()
        return template
    get_in_chain(session, DirectoryGroup, chain_id, directory_group_id, field="directory_group_id")
    taken = session.scalar(
        select(GroupTemplate.id).where(GroupTemplate.directory_group_id == directory_group_id)
    )
    if taken is not None:
        raise Conflict(
            "That directory group has a template already; change it instead.",
            details={"template_id": str(taken)},
        )
    template = GroupTemplate(chain_id=chain_id, directory_group_id=directory_group_id, **values)
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, *, chain_id: uuid.UUID, template_id: uuid.UUID, **values
) -> GroupTemplate:
    template = get_in_chain(session, GroupTemplate, chain_id, template_id)
    for key, value in _check(values).items():
        setattr(template, key, value)
    session.flush()
    return template


def list_templates(
    session: Session, *, chain_id: uuid.UUID, cursor: str | None = None, limit: int = 50
) -> Page:
    stmt = select(GroupTemplate).where(GroupTemplate.chain_id == chain_id)
    return paginate(session, stmt, GroupTemplate.id, cursor=cursor, limit=limit)


def template_for_dealer(
    session: Session, chain_id: uuid.UUID, dealer_id: uuid.UUID
) -> GroupTemplate:
    """The template of the deepest directory group the dealer sits in (or below), else the
    chain's default."""
    candidates = session.execute(
        select(GroupTemplate, DirectoryGroup.path)
        .join(DirectoryGroup, DirectoryGroup.id == GroupTemplate.directory_group_id)
        .where(GroupTemplate.chain_id == chain_id)
    ).all()
    if candidates:
        own_paths = session.scalars(
            select(DirectoryGroup.path)
            .join(OrganisationGroup, OrganisationGroup.group_id == DirectoryGroup.id)
            .where(OrganisationGroup.organisation_id == dealer_id)
        ).all()
        matching = [
            (path.count("/"), template)
            for template, path in candidates
            if any(own == path or own.startswith(path + "/") for own in own_paths)
        ]
        if matching:
            return max(matching, key=lambda pair: pair[0])[1]
    return default_template(session, chain_id)
