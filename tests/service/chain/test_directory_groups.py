"""Directory groups: a tree per chain with materialised paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.chain.directory_groups import (
    MAX_DEPTH,
    MAX_PATH_LENGTH,
    create_group,
    delete_group,
    ensure_path,
    list_groups,
    place_organisation,
    update_group,
)
from service.chain.models import DirectoryGroup, OrganisationGroup, VisibilityRule
from service.chain.organisations import add_organisation, list_organisations
from service.chain.visibility import add_rule
from service.db import get_in_chain
from service.errors import Conflict, Invalid, NotFound
from service.groups.models import GroupTemplate
from service.groups.templates import create_template
from tests.one_order import place_one_order


def paths(session, chain_id) -> set[str]:
    return set(
        session.scalars(select(DirectoryGroup.path).where(DirectoryGroup.chain_id == chain_id))
    )


def by_path(session, chain_id, path) -> DirectoryGroup:
    return session.scalars(
        select(DirectoryGroup).where(
            DirectoryGroup.chain_id == chain_id, DirectoryGroup.path == path
        )
    ).one()


def deep_path(levels: int) -> str:
    return "/".join(f"L{level}" for level in range(1, levels + 1))


# ensure_path


def test_ensure_path_creates_every_missing_level_under_its_parent(session, acme):
    leaf, created = ensure_path(session, chain_id=acme.id, path="Dealers/East/Shanghai")

    assert created is True
    assert paths(session, acme.id) == {"Dealers", "Dealers/East", "Dealers/East/Shanghai"}
    east = by_path(session, acme.id, "Dealers/East")
    assert (leaf.name, leaf.parent_id) == ("Shanghai", east.id)
    assert east.parent_id == by_path(session, acme.id, "Dealers").id
    assert by_path(session, acme.id, "Dealers").parent_id is None


def test_ensure_path_is_idempotent(session, acme, rows):
    first, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East/Shanghai")
    before = rows(DirectoryGroup)

    again, created = ensure_path(session, chain_id=acme.id, path="Dealers/East/Shanghai")

    assert (again.id, created) == (first.id, False)
    assert rows(DirectoryGroup) == before


def test_ensure_path_reuses_existing_levels(session, acme):
    ensure_path(session, chain_id=acme.id, path="Dealers/East/Shanghai")

    leaf, created = ensure_path(session, chain_id=acme.id, path="Dealers/East/Hangzhou")

    assert created is True
    assert leaf.parent_id == by_path(session, acme.id, "Dealers/East").id
    assert paths(session, acme.id) == {
        "Dealers",
        "Dealers/East",
        "Dealers/East/Shanghai",
        "Dealers/East/Hangzhou",
    }


def test_ensure_path_ignores_surrounding_blanks_and_slashes(session, acme):
    first, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")

    again, created = ensure_path(session, chain_id=acme.id, path=" /Dealers / East/ ")

    assert (again.id, created) == (first.id, False)


def test_ensure_path_keeps_chains_apart(session, acme, rival):
    ours, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")

    theirs, created = ensure_path(session, chain_id=rival.id, path="Dealers/East")

    assert created is True
    assert theirs.id != ours.id
    assert paths(session, rival.id) == {"Dealers", "Dealers/East"}


@pytest.mark.parametrize("path", ["", "  ", "/", "Dealers//East", "Dealers/ /East"])
def test_ensure_path_refuses_blank_levels(session, acme, path):
    with pytest.raises(Invalid) as raised:
        ensure_path(session, chain_id=acme.id, path=path)
    assert "path" in raised.value.details["fields"]


def test_ensure_path_allows_max_depth_and_refuses_deeper(session, acme, rows):
    leaf, _ = ensure_path(session, chain_id=acme.id, path=deep_path(MAX_DEPTH))
    assert leaf.path.count("/") == MAX_DEPTH - 1
    before = rows(DirectoryGroup)

    with pytest.raises(Invalid):
        ensure_path(session, chain_id=acme.id, path=deep_path(MAX_DEPTH + 1))
    assert rows(DirectoryGroup) == before


def long_names(first: int) -> list[str]:
    """MAX_DEPTH names, the first `first` characters long, the others 100."""
    return ["0".ljust(first, "x")] + [f"{level}".ljust(100, "x") for level in range(1, MAX_DEPTH)]


def test_longest_allowed_path_can_be_stored(session, acme):
    longest = "/".join(long_names(91))
    assert len(longest) == MAX_PATH_LENGTH

    leaf, _ = ensure_path(session, chain_id=acme.id, path=longest)
    session.expire_all()

    assert get_in_chain(session, DirectoryGroup, acme.id, leaf.id).path == longest


def test_path_longer_than_the_column_is_refused(session, acme, rows):
    with pytest.raises(Invalid) as raised:
        ensure_path(session, chain_id=acme.id, path="/".join(long_names(92)))
    assert "path" in raised.value.details["fields"]
    assert rows(DirectoryGroup) == 0


def test_create_group_refuses_a_path_longer_than_the_column(session, acme):
    parent, _ = ensure_path(session, chain_id=acme.id, path="/".join(long_names(100)[:-1]))

    with pytest.raises(Invalid):
        create_group(session, chain_id=acme.id, name="z" * 92, parent_id=parent.id)
    assert len(
        create_group(session, chain_id=acme.id, name="z" * 91, parent_id=parent.id).path
    ) == (MAX_PATH_LENGTH)


def test_rename_that_would_make_a_descendants_path_too_long_is_refused(session, acme):
    names = long_names(91)
    ensure_path(session, chain_id=acme.id, path="/".join(names))
    top = by_path(session, acme.id, names[0])
    before = paths(session, acme.id)

    with pytest.raises(Invalid) as raised:
        update_group(session, chain_id=acme.id, group_id=top.id, name="0".ljust(92, "x"))
    assert "name" in raised.value.details["fields"]
    assert paths(session, acme.id) == before


# create_group


def test_create_group_under_a_parent_extends_its_path(session, acme):
    dealers = create_group(session, chain_id=acme.id, name="Dealers")

    east = create_group(session, chain_id=acme.id, name=" East ", parent_id=dealers.id)

    assert (east.name, east.path, east.parent_id) == ("East", "Dealers/East", dealers.id)


def test_create_group_refuses_an_existing_path(session, acme):
    dealers = create_group(session, chain_id=acme.id, name="Dealers")
    create_group(session, chain_id=acme.id, name="East", parent_id=dealers.id)

    with pytest.raises(Conflict):
        create_group(session, chain_id=acme.id, name="East", parent_id=dealers.id)
    with pytest.raises(Conflict):
        create_group(session, chain_id=acme.id, name="Dealers")
    # The same name elsewhere in the tree is another group.
    assert create_group(session, chain_id=acme.id, name="East").path == "East"


@pytest.mark.parametrize("name", ["", "   ", "East/Shanghai", "/", "x" * 101])
def test_create_group_refuses_bad_names(session, acme, name):
    with pytest.raises(Invalid) as raised:
        create_group(session, chain_id=acme.id, name=name)
    assert "name" in raised.value.details["fields"]


def test_create_group_under_another_chains_group_is_refused_naming_parent_id(session, acme, rival):
    theirs = create_group(session, chain_id=rival.id, name="Dealers")

    with pytest.raises(Invalid) as refused:
        create_group(session, chain_id=acme.id, name="East", parent_id=theirs.id)
    assert refused.value.details == {"fields": {"parent_id": ["No such directory group."]}}


def test_create_group_refuses_to_go_deeper_than_max_depth(session, acme, rows):
    leaf, _ = ensure_path(session, chain_id=acme.id, path=deep_path(MAX_DEPTH))
    before = rows(DirectoryGroup)

    with pytest.raises(Invalid):
        create_group(session, chain_id=acme.id, name="Too deep", parent_id=leaf.id)
    assert rows(DirectoryGroup) == before


def test_list_groups_lists_one_chain_or_one_parents_children(session, acme, rival):
    ensure_path(session, chain_id=acme.id, path="Dealers/East")
    ensure_path(session, chain_id=acme.id, path="Dealers/South/Guangzhou")
    ensure_path(session, chain_id=rival.id, path="Dealers/West")
    dealers = by_path(session, acme.id, "Dealers")

    everything = list_groups(session, chain_id=acme.id, limit=500).items
    children = list_groups(session, chain_id=acme.id, parent_id=dealers.id).items

    assert {group.path for group in everything} == paths(session, acme.id)
    assert {group.path for group in children} == {"Dealers/East", "Dealers/South"}


# update_group


@pytest.fixture
def tree(session, acme):
    for path in (
        "Dealers/East/Shanghai/Pudong",
        "Dealers/East/Hangzhou",
        "Dealers/Eastern/Ningbo",
        "Dealers/South",
        "Regions",
    ):
        ensure_path(session, chain_id=acme.id, path=path)
    return acme


def test_renaming_a_group_rewrites_its_descendants_paths(session, tree):
    east = by_path(session, tree.id, "Dealers/East")

    renamed = update_group(session, chain_id=tree.id, group_id=east.id, name="East China")

    assert renamed.path == "Dealers/East China"
    assert paths(session, tree.id) == {
        "Dealers",
        "Dealers/East China",
        "Dealers/East China/Shanghai",
        "Dealers/East China/Shanghai/Pudong",
        "Dealers/East China/Hangzhou",
        # A sibling whose name merely starts the same is not a descendant.
        "Dealers/Eastern",
        "Dealers/Eastern/Ningbo",
        "Dealers/South",
        "Regions",
    }


def test_moving_a_group_carries_its_subtree(session, tree):
    east = by_path(session, tree.id, "Dealers/East")
    regions = by_path(session, tree.id, "Regions")

    moved = update_group(
        session, chain_id=tree.id, group_id=east.id, parent_id=regions.id, move=True
    )

    assert (moved.path, moved.parent_id) == ("Regions/East", regions.id)
    assert by_path(session, tree.id, "Regions/East/Shanghai/Pudong").parent_id == (
        by_path(session, tree.id, "Regions/East/Shanghai").id
    )
    assert not any(path.startswith("Dealers/East/") for path in paths(session, tree.id))


def test_moving_a_group_to_the_root(session, tree):
    shanghai = by_path(session, tree.id, "Dealers/East/Shanghai")

    moved = update_group(session, chain_id=tree.id, group_id=shanghai.id, move=True)

    assert (moved.path, moved.parent_id) == ("Shanghai", None)
    assert "Shanghai/Pudong" in paths(session, tree.id)


def test_update_without_change_keeps_the_group(session, tree):
    east = by_path(session, tree.id, "Dealers/East")
    before = paths(session, tree.id)

    update_group(session, chain_id=tree.id, group_id=east.id, name="East")

    assert paths(session, tree.id) == before


def test_moving_a_group_under_itself_or_a_descendant_is_refused(session, tree):
    east = by_path(session, tree.id, "Dealers/East")
    before = paths(session, tree.id)

    for target in ("Dealers/East", "Dealers/East/Shanghai", "Dealers/East/Shanghai/Pudong"):
        with pytest.raises(Invalid) as raised:
            update_group(
                session,
                chain_id=tree.id,
                group_id=east.id,
                parent_id=by_path(session, tree.id, target).id,
                move=True,
            )
        assert "parent_id" in raised.value.details["fields"]
    assert paths(session, tree.id) == before


def test_rename_onto_an_existing_path_conflicts(session, tree):
    east = by_path(session, tree.id, "Dealers/East")

    with pytest.raises(Conflict):
        update_group(session, chain_id=tree.id, group_id=east.id, name="South")


def test_move_that_would_exceed_max_depth_is_refused(session, tree):
    # Dealers/East holds three levels (East/Shanghai/Pudong).
    east = by_path(session, tree.id, "Dealers/East")
    deep_enough, _ = ensure_path(session, chain_id=tree.id, path=deep_path(MAX_DEPTH - 3))
    too_deep, _ = ensure_path(session, chain_id=tree.id, path=deep_path(MAX_DEPTH - 2))

    with pytest.raises(Invalid):
        update_group(session, chain_id=tree.id, group_id=east.id, parent_id=too_deep.id, move=True)
    moved = update_group(
        session, chain_id=tree.id, group_id=east.id, parent_id=deep_enough.id, move=True
    )
    assert by_path(session, tree.id, moved.path + "/Shanghai/Pudong").path.count("/") == (
        MAX_DEPTH - 1
    )


def test_rename_to_a_bad_name_is_refused(session, tree):
    east = by_path(session, tree.id, "Dealers/East")

    for name in ("", "East/West"):
        with pytest.raises(Invalid):
            update_group(session, chain_id=tree.id, group_id=east.id, name=name)


def test_update_of_another_chains_group_is_not_found(session, tree, rival):
    theirs = create_group(session, chain_id=rival.id, name="Dealers")

    with pytest.raises(NotFound):
        update_group(session, chain_id=tree.id, group_id=theirs.id, name="Mine")


# delete_group


def test_delete_group_with_subgroups_is_refused(session, tree):
    east = by_path(session, tree.id, "Dealers/East")

    with pytest.raises(Conflict):
        delete_group(session, chain_id=tree.id, group_id=east.id)
    assert "Dealers/East" in paths(session, tree.id)


def test_delete_group_removes_its_placements_and_rules(session, tree, rows):
    pudong = by_path(session, tree.id, "Dealers/East/Shanghai/Pudong")
    south = by_path(session, tree.id, "Dealers/South")
    regions = by_path(session, tree.id, "Regions")
    dealer, _ = add_organisation(
        session,
        chain_id=tree.id,
        kind="dealer",
        name="Pudong Home",
        group_ids=[pudong.id, south.id],
    )
    add_rule(session, chain_id=tree.id, viewer_group_id=pudong.id, visible_group_id=south.id)
    add_rule(session, chain_id=tree.id, viewer_group_id=south.id, visible_group_id=pudong.id)
    kept, _ = add_rule(
        session, chain_id=tree.id, viewer_group_id=south.id, visible_group_id=regions.id
    )

    delete_group(session, chain_id=tree.id, group_id=pudong.id)

    assert "Dealers/East/Shanghai/Pudong" not in paths(session, tree.id)
    placements = session.scalars(
        select(OrganisationGroup.group_id).where(OrganisationGroup.organisation_id == dealer.id)
    ).all()
    assert placements == [south.id]
    assert session.scalars(select(VisibilityRule.id)).all() == [kept.id]
    # The parent is a leaf now and can go too.
    shanghai = by_path(session, tree.id, "Dealers/East/Shanghai")
    delete_group(session, chain_id=tree.id, group_id=shanghai.id)
    assert rows(DirectoryGroup) == len(paths(session, tree.id))


def test_delete_group_takes_its_unused_template_with_it(session, tree):
    south = by_path(session, tree.id, "Dealers/South")
    template = create_template(session, chain_id=tree.id, directory_group_id=south.id)

    delete_group(session, chain_id=tree.id, group_id=south.id)

    assert "Dealers/South" not in paths(session, tree.id)
    assert session.get(GroupTemplate, template.id) is None


def test_delete_group_whose_template_made_delivery_groups_is_refused(session):
    one = place_one_order(session, [("Frames", "Sofa frame", 1, None)])
    east = ensure_path(session, chain_id=one.chain.id, path="Dealers/East")[0]
    template = create_template(session, chain_id=one.chain.id, directory_group_id=east.id)
    one.group.template_id = template.id  # a delivery group made from it
    session.flush()

    with pytest.raises(Conflict) as refused:
        delete_group(session, chain_id=one.chain.id, group_id=east.id)

    assert refused.value.details == {"template_id": str(template.id)}
    assert "Dealers/East" in paths(session, one.chain.id)
    assert session.get(GroupTemplate, template.id) is not None


def test_delete_group_of_another_chain_is_not_found(session, tree, rival):
    theirs = create_group(session, chain_id=rival.id, name="Dealers")

    with pytest.raises(NotFound):
        delete_group(session, chain_id=tree.id, group_id=theirs.id)


# Placement


def test_place_organisation_sets_the_exact_set_of_groups(session, tree):
    south = by_path(session, tree.id, "Dealers/South")
    regions = by_path(session, tree.id, "Regions")
    east = by_path(session, tree.id, "Dealers/East")
    dealer, _ = add_organisation(
        session, chain_id=tree.id, kind="dealer", name="Moving Home", group_ids=[south.id]
    )

    place_organisation(
        session, chain_id=tree.id, organisation_id=dealer.id, group_ids=[regions.id, east.id]
    )

    placed = set(
        session.scalars(
            select(OrganisationGroup.group_id).where(OrganisationGroup.organisation_id == dealer.id)
        )
    )
    assert placed == {regions.id, east.id}


def test_placing_in_an_unknown_or_foreign_group_is_invalid(session, tree, rival):
    theirs = create_group(session, chain_id=rival.id, name="Dealers")

    with pytest.raises(Invalid) as raised:
        add_organisation(
            session, chain_id=tree.id, kind="dealer", name="Lost", group_ids=[theirs.id]
        )
    assert "group_ids" in raised.value.details["fields"]


# Names that mean something to LIKE or differ only in case


@pytest.fixture
def lookalikes(session, acme):
    """Groups whose names are LIKE wildcards, or differ from another only in case, each with
    a child and a dealer in the child."""
    dealers = {}
    for path in ("%/a", "_/b", "X/c", "Shop_1/d", "Shop11/e", "east/f", "East/g"):
        leaf, _ = ensure_path(session, chain_id=acme.id, path=path)
        dealers[path], _ = add_organisation(
            session, chain_id=acme.id, kind="dealer", name=f"in {path}", group_ids=[leaf.id]
        )
    return acme


def names_listed_under(session, chain_id, path) -> set[str]:
    group = by_path(session, chain_id, path)
    page = list_organisations(session, chain_id=chain_id, group_id=group.id, limit=500)
    return {organisation.name for organisation in page.items}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("%", {"in %/a"}),
        ("_", {"in _/b"}),
        ("Shop_1", {"in Shop_1/d"}),
        ("east", {"in east/f"}),
        ("East", {"in East/g"}),
    ],
)
def test_wildcards_and_case_in_group_names_do_not_reach_other_subtrees(
    session, lookalikes, path, expected
):
    assert names_listed_under(session, lookalikes.id, path) == expected


@pytest.mark.parametrize("path", ["%", "_", "Shop_1", "east"])
def test_renaming_a_lookalike_group_leaves_other_subtrees_alone(session, lookalikes, path):
    group = by_path(session, lookalikes.id, path)
    others = {
        p for p in paths(session, lookalikes.id) if p != path and not p.startswith(path + "/")
    }

    update_group(session, chain_id=lookalikes.id, group_id=group.id, name="Renamed")

    after = paths(session, lookalikes.id)
    assert others <= after
    assert {p for p in after if p.startswith("Renamed")} == {
        "Renamed",
        "Renamed/" + {"%": "a", "_": "b", "Shop_1": "d", "east": "f"}[path],
    }


def test_depth_check_of_a_lookalike_group_ignores_other_subtrees(session, lookalikes):
    # "_" has one level below it; "X" has a deep subtree that LIKE "_/%" would also match.
    ensure_path(session, chain_id=lookalikes.id, path="X/" + deep_path(MAX_DEPTH - 1))
    underscore = by_path(session, lookalikes.id, "_")
    target, _ = ensure_path(session, chain_id=lookalikes.id, path=deep_path(MAX_DEPTH - 2))

    moved = update_group(
        session, chain_id=lookalikes.id, group_id=underscore.id, parent_id=target.id, move=True
    )

    assert moved.path == deep_path(MAX_DEPTH - 2) + "/_"
