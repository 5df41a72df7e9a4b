"""The shared directory: exactly who sees whom, and which mobiles they see whole.

Every assertion compares the whole set a viewer sees, so that anything leaking into a view
fails the test, not only something missing from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.directory import shared_directory
from service.chain.directory_groups import create_group, ensure_path, place_organisation
from service.chain.members import add_member, remove_member
from service.chain.models import DirectoryGroup, Member, Organisation
from service.chain.organisations import add_organisation, remove_organisation
from service.chain.visibility import add_rule, delete_rule
from service.errors import Invalid

EVERYONE = {"Brenda", "Ann", "Andy", "Bob", "Fay", "Gus", "Cal"}
BRAND, A, B, C, F, G = (
    "Acme Home",
    "Dealer A",
    "Dealer B",
    "Dealer C",
    "Factory F",
    "Factory G",
)


@dataclass
class Network:
    """A brand, dealers A (Dealers/East/Shanghai), B (Dealers/South) and C (in no group),
    factories F (Production bases) and G (Production bases/North), one person each
    (two in A), and no visibility rule yet."""

    chain_id: object
    organisations: dict[str, Organisation]
    people: dict[str, Member]
    groups: dict[str, DirectoryGroup]

    def rule(self, session: Session, viewer: str, visible: str):
        rule, _ = add_rule(
            session,
            chain_id=self.chain_id,
            viewer_group_id=self.groups[viewer].id,
            visible_group_id=self.groups[visible].id,
        )
        return rule


@pytest.fixture
def network(session: Session, acme) -> Network:
    for path in ("Dealers/East/Shanghai", "Dealers/South", "Production bases/North"):
        ensure_path(session, chain_id=acme.id, path=path)
    groups = {
        group.path: group
        for group in session.scalars(
            select(DirectoryGroup).where(DirectoryGroup.chain_id == acme.id)
        )
    }
    placements = {
        A: ("dealer", "Dealers/East/Shanghai"),
        B: ("dealer", "Dealers/South"),
        C: ("dealer", None),
        F: ("factory", "Production bases"),
        G: ("factory", "Production bases/North"),
    }
    organisations = {BRAND: acme.brand}
    for name, (kind, path) in placements.items():
        organisations[name], _ = add_organisation(
            session,
            chain_id=acme.id,
            kind=kind,
            name=name,
            group_ids=[groups[path].id] if path else [],
        )
    people = {}
    for person, organisation, mobile in (
        ("Brenda", BRAND, "13900000001"),
        ("Ann", A, "13811110002"),
        ("Andy", A, "13811110003"),
        ("Bob", B, "13822220004"),
        ("Cal", C, "13855550007"),
        ("Fay", F, "13833330005"),
        ("Gus", G, "13844440006"),
    ):
        people[person] = add_member(
            session,
            chain_id=acme.id,
            organisation_id=organisations[organisation].id,
            name=person,
            role="admin",
            mobile=mobile,
        )
    return Network(acme.id, organisations, people, groups)


def view(session: Session, network: Network, viewer: str | None = None, **kwargs) -> dict:
    """Person name → directory entry, as `viewer` sees the directory (None: the brand's view)."""
    page = shared_directory(
        session,
        chain_id=network.chain_id,
        viewer_member_id=network.people[viewer].id if viewer else None,
        limit=500,
        **kwargs,
    )
    assert page.next_cursor is None
    return {entry.name: entry for entry in page.items}


def organisations_seen(session: Session, network: Network, viewer: str) -> set[str]:
    return {entry.organisation.name for entry in view(session, network, viewer).values()}


# Without rules


def test_dealer_member_sees_own_organisation_and_brand_only(session, network):
    assert set(view(session, network, "Ann")) == {"Ann", "Andy", "Brenda"}
    assert set(view(session, network, "Bob")) == {"Bob", "Brenda"}
    assert set(view(session, network, "Cal")) == {"Cal", "Brenda"}


def test_factory_member_sees_brand_and_own_organisation_only(session, network):
    assert set(view(session, network, "Fay")) == {"Fay", "Brenda"}
    assert set(view(session, network, "Gus")) == {"Gus", "Brenda"}


def test_brand_member_sees_everyone(session, network):
    assert set(view(session, network, "Brenda")) == EVERYONE


def test_full_view_without_viewer_lists_every_member(session, network):
    assert set(view(session, network)) == EVERYONE


def test_dealer_asking_for_another_dealers_members_gets_none(session, network):
    for other in (B, F, C):
        entries = view(session, network, "Ann", organisation_id=network.organisations[other].id)
        assert entries == {}


def test_paging_through_a_view_shows_nothing_beyond_it(session, network):
    seen, cursor = set(), None
    while True:
        page = shared_directory(
            session,
            chain_id=network.chain_id,
            viewer_member_id=network.people["Ann"].id,
            cursor=cursor,
            limit=1,
        )
        seen |= {entry.name for entry in page.items}
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == {"Ann", "Andy", "Brenda"}


# Visibility rules


def test_rule_on_parent_group_applies_to_viewers_and_visibles_in_its_subgroups(session, network):
    # A sits in Dealers/East/Shanghai, B in Dealers/South, G in Production bases/North.
    network.rule(session, "Dealers", "Production bases")

    assert organisations_seen(session, network, "Ann") == {BRAND, A, F, G}
    assert organisations_seen(session, network, "Bob") == {BRAND, B, F, G}
    # C is in no group: no rule speaks for it.
    assert organisations_seen(session, network, "Cal") == {BRAND, C}


def test_rule_on_a_subgroup_does_not_reach_its_parent(session, network):
    network.rule(session, "Dealers/East/Shanghai", "Production bases/North")

    # F sits in the parent of the visible group, B outside the viewer group.
    assert organisations_seen(session, network, "Ann") == {BRAND, A, G}
    assert organisations_seen(session, network, "Bob") == {BRAND, B}


def test_rule_for_one_region_leaves_other_regions_out(session, network):
    network.rule(session, "Dealers/South", "Production bases")

    assert organisations_seen(session, network, "Bob") == {BRAND, B, F, G}
    assert organisations_seen(session, network, "Ann") == {BRAND, A}


def test_rules_are_one_way(session, network):
    network.rule(session, "Dealers/East", "Dealers/South")
    network.rule(session, "Dealers", "Production bases")

    assert organisations_seen(session, network, "Ann") == {BRAND, A, B, F, G}
    assert organisations_seen(session, network, "Bob") == {BRAND, B, F, G}
    assert organisations_seen(session, network, "Fay") == {BRAND, F}
    assert organisations_seen(session, network, "Gus") == {BRAND, G}


def test_factory_sees_only_what_a_rule_grants(session, network):
    network.rule(session, "Production bases/North", "Dealers/South")

    assert organisations_seen(session, network, "Gus") == {BRAND, G, B}
    assert organisations_seen(session, network, "Fay") == {BRAND, F}


def test_deleted_rule_grants_nothing_any_more(session, network):
    rule = network.rule(session, "Dealers", "Production bases")
    delete_rule(session, chain_id=network.chain_id, rule_id=rule.id)

    assert organisations_seen(session, network, "Ann") == {BRAND, A}


def test_organisation_in_several_groups_is_seen_through_any_of_them(session, network):
    place_organisation(
        session,
        chain_id=network.chain_id,
        organisation_id=network.organisations[B].id,
        group_ids=[network.groups["Dealers/South"].id, network.groups["Production bases"].id],
    )
    network.rule(session, "Production bases/North", "Production bases")

    assert organisations_seen(session, network, "Gus") == {BRAND, G, F, B}
    # B now also sits in Production bases, the viewer side of nothing: sees as before.
    assert organisations_seen(session, network, "Bob") == {BRAND, B}


def test_rules_of_another_chain_grant_nothing_here(session, network):
    rival, _ = create_chain(session, name="Rival Living")
    viewer, _ = ensure_path(session, chain_id=rival.id, path="Dealers")
    visible, _ = ensure_path(session, chain_id=rival.id, path="Production bases")
    add_rule(session, chain_id=rival.id, viewer_group_id=viewer.id, visible_group_id=visible.id)
    rival_factory, _ = add_organisation(
        session, chain_id=rival.id, kind="factory", name="Rival F", group_ids=[visible.id]
    )
    add_member(
        session, chain_id=rival.id, organisation_id=rival_factory.id, name="Rex", role="admin"
    )

    assert organisations_seen(session, network, "Ann") == {BRAND, A}
    assert set(view(session, network)) == EVERYONE


def test_like_wildcards_in_a_visible_group_name_do_not_widen_a_rule(session, network):
    for name in ("%", "_", "Production%", "Dealers_South"):
        group = create_group(session, chain_id=network.chain_id, name=name)
        network.groups[name] = group
        network.rule(session, "Dealers/East", name)

    assert organisations_seen(session, network, "Ann") == {BRAND, A}


def test_like_wildcards_in_a_viewer_group_name_do_not_widen_a_rule(session, network):
    network.groups["Dealers/%"] = create_group(
        session, chain_id=network.chain_id, name="%", parent_id=network.groups["Dealers"].id
    )
    network.rule(session, "Dealers/%", "Production bases")

    assert organisations_seen(session, network, "Ann") == {BRAND, A}
    assert organisations_seen(session, network, "Bob") == {BRAND, B}


def test_group_names_differing_in_case_are_different_groups_to_a_rule(session, network):
    network.groups["production bases"] = create_group(
        session, chain_id=network.chain_id, name="production bases"
    )
    network.rule(session, "Dealers", "production bases")

    assert organisations_seen(session, network, "Ann") == {BRAND, A}


# Leaving the chain


def test_removed_member_vanishes_from_every_view(session, network):
    network.rule(session, "Dealers", "Production bases")
    remove_member(session, chain_id=network.chain_id, member_id=network.people["Fay"].id)

    assert "Fay" not in view(session, network)
    assert "Fay" not in view(session, network, "Brenda")
    assert set(view(session, network, "Ann")) == {"Ann", "Andy", "Brenda", "Gus"}


def test_removed_organisation_vanishes_even_where_a_rule_grants_it(session, network):
    network.rule(session, "Dealers", "Production bases")
    remove_organisation(
        session, chain_id=network.chain_id, organisation_id=network.organisations[F].id
    )

    assert set(view(session, network)) == EVERYONE - {"Fay"}
    assert organisations_seen(session, network, "Brenda") == {BRAND, A, B, C, G}
    assert organisations_seen(session, network, "Ann") == {BRAND, A, G}


def test_removed_member_cannot_view_the_directory(session, network):
    remove_member(session, chain_id=network.chain_id, member_id=network.people["Ann"].id)

    with pytest.raises(Invalid) as raised:
        view(session, network, "Ann")
    assert "viewer_member_id" in raised.value.details["fields"]


def test_member_of_removed_organisation_cannot_view_the_directory(session, network):
    remove_organisation(
        session, chain_id=network.chain_id, organisation_id=network.organisations[B].id
    )

    with pytest.raises(Invalid):
        view(session, network, "Bob")


def test_member_of_another_chain_cannot_view_this_directory(session, network):
    rival, rival_brand = create_chain(session, name="Rival Living")
    outsider = add_member(
        session, chain_id=rival.id, organisation_id=rival_brand.id, name="Rex", role="admin"
    )

    with pytest.raises(Invalid):
        shared_directory(session, chain_id=network.chain_id, viewer_member_id=outsider.id)


# Mobiles


def test_mobiles_are_whole_within_own_organisation_and_masked_elsewhere(session, network):
    network.rule(session, "Dealers", "Production bases")

    mobiles = {name: entry.mobile for name, entry in view(session, network, "Ann").items()}

    assert mobiles == {
        "Ann": "+8613811110002",
        "Andy": "+8613811110003",
        "Brenda": "139****0001",
        "Fay": "138****0005",
        "Gus": "138****0006",
    }


def test_brand_member_sees_other_organisations_mobiles_masked(session, network):
    mobiles = {name: entry.mobile for name, entry in view(session, network, "Brenda").items()}

    assert mobiles["Brenda"] == "+8613900000001"
    assert mobiles["Bob"] == "138****0004"
    assert all("*" in mobile for name, mobile in mobiles.items() if name != "Brenda")


def test_brand_full_view_shows_every_mobile_whole(session, network):
    mobiles = {name: entry.mobile for name, entry in view(session, network).items()}

    assert mobiles == {
        "Brenda": "+8613900000001",
        "Ann": "+8613811110002",
        "Andy": "+8613811110003",
        "Bob": "+8613822220004",
        "Cal": "+8613855550007",
        "Fay": "+8613833330005",
        "Gus": "+8613844440006",
    }


def test_member_without_mobile_is_listed_without_one(session, network):
    add_member(
        session,
        chain_id=network.chain_id,
        organisation_id=network.organisations[BRAND].id,
        name="Nomo",
        role="coordinator",
    )

    assert view(session, network, "Ann")["Nomo"].mobile is None
