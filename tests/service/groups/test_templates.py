"""Group templates: how a delivery group is named, who joins it, how it is moderated."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from service.chain.chains import create_chain
from service.chain.directory_groups import ensure_path
from service.chain.organisations import update_organisation
from service.db import get_in_chain
from service.errors import Conflict, Invalid, NotFound
from service.groups.groups import seats
from service.groups.messages import list_messages, post_message
from service.groups.models import GroupTemplate
from service.groups.templates import (
    DEFAULTS,
    LIVE_SETTINGS,
    NEW_GROUP_SETTINGS,
    create_template,
    default_template,
    list_templates,
    template_for_dealer,
    update_template,
)


def test_a_new_chain_has_its_default_template(session):
    chain, _ = create_chain(session, name="Fresh Home")

    [template] = session.scalars(select(GroupTemplate).where(GroupTemplate.chain_id == chain.id))
    assert template.directory_group_id is None
    assert template.name_pattern == "{customer_name}·{dealer_name}"
    assert template.member_roles == ["owner", "designer", "installer"]
    assert (template.rename_locked, template.contact_action, template.member_cap) == (
        True,
        "warn",
        500,
    )
    assert default_template(session, chain.id) is template


def test_creating_without_a_directory_group_changes_the_default(acme):
    default = default_template(acme.session, acme.id)

    template = create_template(
        acme.session, chain_id=acme.id, directory_group_id=None, name_pattern="{customer_name}"
    )

    assert template.id == default.id
    assert template.name_pattern == "{customer_name}"
    # What was not given is back to the defaults.
    assert template.member_roles == DEFAULTS["member_roles"]
    assert acme.count(GroupTemplate) == 1


@pytest.fixture
def tree(acme):
    """East ⊃ East/Shanghai ⊃ East/Shanghai/Pudong, and West; templates on East and
    East/Shanghai."""
    paths = {}
    for path in ("East/Shanghai/Pudong", "West", "North/Beijing"):
        for level in range(path.count("/") + 1):
            prefix = "/".join(path.split("/")[: level + 1])
            paths[prefix], _ = ensure_path(acme.session, chain_id=acme.id, path=prefix)

    def template(path, name):
        return create_template(
            acme.session, chain_id=acme.id, directory_group_id=paths[path].id, name=name
        )

    templates = {"East": template("East", "East"), "East/Shanghai": template("East/Shanghai", "SH")}
    return paths, templates


def place(acme, *paths_of_dealer, tree):
    paths, _ = tree
    update_organisation(
        acme.session,
        chain_id=acme.id,
        organisation_id=acme.dealer.id,
        group_ids=[paths[path].id for path in paths_of_dealer],
    )
    return template_for_dealer(acme.session, acme.id, acme.dealer.id)


@pytest.mark.parametrize(
    ("dealer_in", "expected"),
    [
        (["East/Shanghai/Pudong"], "East/Shanghai"),
        (["East/Shanghai"], "East/Shanghai"),
        (["East"], "East"),
        (["West", "East/Shanghai/Pudong"], "East/Shanghai"),
        (["West", "East"], "East"),
        (["West"], None),
        (["North/Beijing"], None),
        ([], None),
    ],
)
def test_dealer_gets_the_template_of_the_deepest_group_covering_it(acme, tree, dealer_in, expected):
    _, templates = tree

    chosen = place(acme, *dealer_in, tree=tree)

    wanted = templates[expected] if expected else default_template(acme.session, acme.id)
    assert chosen.id == wanted.id


def test_deeper_template_wins_across_branches(acme, tree):
    paths, templates = tree
    beijing = create_template(
        acme.session, chain_id=acme.id, directory_group_id=paths["North/Beijing"].id, name="BJ"
    )

    # East (depth 0) and North/Beijing (depth 1) both cover the dealer: the deeper one wins.
    assert place(acme, "East", "North/Beijing", tree=tree).id == beijing.id
    # East/Shanghai and North/Beijing are as deep: either is a right answer, never East.
    assert place(acme, "East/Shanghai", "North/Beijing", tree=tree).id in {
        beijing.id,
        templates["East/Shanghai"].id,
    }


def test_a_similar_name_is_not_a_sub_group(acme, tree):
    eastern, _ = ensure_path(acme.session, chain_id=acme.id, path="Eastern")
    update_organisation(
        acme.session, chain_id=acme.id, organisation_id=acme.dealer.id, group_ids=[eastern.id]
    )

    chosen = template_for_dealer(acme.session, acme.id, acme.dealer.id)

    assert chosen.id == default_template(acme.session, acme.id).id


def test_templates_of_another_chain_never_apply(acme, rival):
    theirs, _ = ensure_path(rival.session, chain_id=rival.id, path="East")
    create_template(rival.session, chain_id=rival.id, directory_group_id=theirs.id, name="Rival")
    ours, _ = ensure_path(acme.session, chain_id=acme.id, path="East")
    update_organisation(
        acme.session, chain_id=acme.id, organisation_id=acme.dealer.id, group_ids=[ours.id]
    )

    chosen = template_for_dealer(acme.session, acme.id, acme.dealer.id)

    assert chosen.id == default_template(acme.session, acme.id).id
    with pytest.raises(Invalid) as raised:
        create_template(acme.session, chain_id=acme.id, directory_group_id=theirs.id)
    assert list(raised.value.details["fields"]) == ["directory_group_id"]
    with pytest.raises(NotFound):
        get_in_chain(
            acme.session, GroupTemplate, acme.id, default_template(rival.session, rival.id).id
        )
    assert rival.id not in {
        t.chain_id for t in list_templates(acme.session, chain_id=acme.id).items
    }


def test_a_directory_group_has_one_template(acme, tree):
    paths, templates = tree

    with pytest.raises(Conflict) as raised:
        create_template(acme.session, chain_id=acme.id, directory_group_id=paths["East"].id)

    assert raised.value.details["template_id"] == str(templates["East"].id)


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("name_pattern", "{customer}·{dealer_name}"),
        ("name_pattern", "{customer_name.__class__}"),
        ("name_pattern", "{customer_name[0]}"),
        ("name_pattern", "{0}"),
        ("name_pattern", "{}"),
        ("name_pattern", "{customer_name"),
        ("name_pattern", "customer_name}"),
        ("name_pattern", "   "),
        ("welcome_message", "Hello {customer_name}, I am {owner}"),
        ("welcome_message", "Hello {customer_name!r:>{width}}"),
        # A spec or conversion would be applied to every group made later.
        ("name_pattern", "{customer_name:>999999999}"),
        ("name_pattern", "{customer_name:d}"),
        ("welcome_message", "Hello {customer_name!r}"),
    ],
)
def test_bad_placeholders_are_refused(acme, field, pattern):
    before = getattr(default_template(acme.session, acme.id), field)
    with pytest.raises(Invalid) as raised:
        create_template(acme.session, chain_id=acme.id, directory_group_id=None, **{field: pattern})

    assert list(raised.value.details["fields"]) == [field]
    assert getattr(default_template(acme.session, acme.id), field) == before


def test_the_default_welcome_speaks_the_chains_language(acme):
    english_chain, _ = create_chain(acme.session, name="Lumen Living", language="en")
    chinese = default_template(acme.session, acme.id).welcome_message
    english = default_template(acme.session, english_chain.id).welcome_message
    assert chinese.startswith("{customer_name}，欢迎您！")
    assert english.startswith("Welcome, {customer_name}!")


def test_every_known_placeholder_and_doubled_braces_are_accepted(acme):
    template = create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        name_pattern="{customer_name}·{dealer_name}·{owner_name}·{brand_name} {{VIP}}",
    )

    assert template.name_pattern.endswith("{{VIP}}")


@pytest.mark.parametrize("roles", [["owner", "boss"], ["customer"], ["Designer"]])
def test_unknown_member_roles_are_refused(acme, roles):
    with pytest.raises(Invalid) as raised:
        create_template(acme.session, chain_id=acme.id, directory_group_id=None, member_roles=roles)

    assert list(raised.value.details["fields"]) == ["member_roles"]


def test_member_roles_are_kept_once_each(acme):
    template = create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        member_roles=["owner", "installer", "owner", "sales"],
    )

    assert template.member_roles == ["owner", "installer", "sales"]


@pytest.mark.parametrize(
    "values",
    [
        {"auto_replies": [{"keyword": " ", "reply": "Hi"}]},
        {"auto_replies": [{"keyword": "install", "reply": ""}]},
        {"blocked_words": [{"word": "  ", "action": "block"}]},
        {"blocked_words": [{"word": "wechat", "action": "shout"}]},
    ],
)
def test_bad_auto_replies_and_blocked_words_are_refused(acme, values):
    with pytest.raises(Invalid) as raised:
        create_template(acme.session, chain_id=acme.id, directory_group_id=None, **values)

    assert list(raised.value.details["fields"]) == list(values)


def test_blocked_words_default_to_block(acme):
    template = create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        blocked_words=[{"word": " wechat "}],
    )

    assert template.blocked_words == [{"word": "wechat", "action": "block"}]


def test_update_checks_what_it_changes(acme):
    template = default_template(acme.session, acme.id)

    with pytest.raises(Invalid):
        update_template(
            acme.session, chain_id=acme.id, template_id=template.id, member_roles=["boss"]
        )
    with pytest.raises(Invalid):
        update_template(
            acme.session, chain_id=acme.id, template_id=template.id, welcome_message="{nobody}"
        )
    updated = update_template(
        acme.session,
        chain_id=acme.id,
        template_id=template.id,
        rename_locked=False,
        member_roles=["owner"],
    )

    assert (updated.rename_locked, updated.member_roles) == (False, ["owner"])
    assert updated.name_pattern == DEFAULTS["name_pattern"]
    with pytest.raises(NotFound):
        update_template(acme.session, chain_id=acme.id, template_id=uuid.uuid4(), name="x")


# --- What an edit changes: moderation at once, the rest for groups made afterwards ---


def test_moderation_edits_apply_at_once_to_the_groups_made_from_the_template(acme):
    template = default_template(acme.session, acme.id)
    customer = acme.customer()
    _, group = acme.order(customer)
    stored, _ = post_message(acme.session, group=group, text="Install when?", sender="customer")
    assert len(stored) == 1  # no auto-reply yet

    update_template(
        acme.session,
        chain_id=acme.id,
        template_id=template.id,
        auto_replies=[{"keyword": "install", "reply": "We will call you today."}],
        blocked_words=[{"word": "cheaper elsewhere", "action": "block"}],
        contact_action="block",
    )

    stored, _ = post_message(acme.session, group=group, text="Install when?", sender="customer")
    assert [m.text for m in stored[1:]] == ["We will call you today."]
    for text in ("It is cheaper elsewhere", "Call me on 13912345678"):
        with pytest.raises(Invalid) as raised:
            post_message(acme.session, group=group, text=text, sender="customer")
        assert raised.value.code == "message_blocked"

    update_template(
        acme.session,
        chain_id=acme.id,
        template_id=template.id,
        auto_replies=[{"keyword": "install", "reply": "Installers call within 24 h."}],
        contact_action="allow",
    )

    stored, _ = post_message(acme.session, group=group, text="install?", sender="customer")
    assert [m.text for m in stored[1:]] == ["Installers call within 24 h."]
    [posted], _ = post_message(
        acme.session, group=group, text="Call me on 13912345678", sender="customer"
    )
    assert not posted.flagged


def test_other_edits_apply_to_groups_made_afterwards_and_leave_made_groups_alone(acme):
    template = default_template(acme.session, acme.id)
    _, earlier = acme.order(acme.customer("Wang Fang"))
    before = (earlier.name, earlier.rename_locked, earlier.member_cap, earlier.member_count)
    seated_before = {seat.member_id for seat in seats(acme.session, earlier.id)}

    update_template(
        acme.session,
        chain_id=acme.id,
        template_id=template.id,
        name_pattern="{dealer_name} for {customer_name}",
        welcome_message="Hello {customer_name}.",
        member_roles=["sales"],
        rename_locked=False,
        member_cap=10,
    )
    _, later = acme.order(acme.customer("Zhang San"))

    acme.session.refresh(earlier)
    assert (earlier.name, earlier.rename_locked, earlier.member_cap, earlier.member_count) == (
        before
    )
    assert {seat.member_id for seat in seats(acme.session, earlier.id)} == seated_before
    assert (later.name, later.rename_locked, later.member_cap) == (
        "Bund Home for Zhang San",
        False,
        10,
    )
    assert {seat.member_id for seat in seats(acme.session, later.id)} == {
        None,
        acme.owner.id,
        acme.sales.id,
    }
    [welcome] = list_messages(acme.session, group_id=later.id).items
    assert welcome.text == "Hello Zhang San."


def test_every_template_setting_says_when_it_applies():
    assert set(LIVE_SETTINGS) | set(NEW_GROUP_SETTINGS) == set(DEFAULTS) - {"name"}
    assert set(LIVE_SETTINGS) == {"auto_replies", "blocked_words", "contact_action"}
    assert not set(LIVE_SETTINGS) & set(NEW_GROUP_SETTINGS)
