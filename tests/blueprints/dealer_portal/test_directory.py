"""The portal's directory page: the shared directory as the member may see it, searched by
name, organisation, role or mobile (typed any way); a masked number is found only by what it
shows; whole numbers are a tap to call; nothing of another dealer or chain ever turns up."""

from __future__ import annotations

import pytest

from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from tests.blueprints.dealer_portal.test_portal import _log_in
from tests.blueprints.dealer_portal.test_portal import chain as chain  # a fixture, used by name

EN = {"Accept-Language": "en"}


@pytest.fixture
def directory(client, chain, session):
    chain_row, members = chain
    add_member(
        session, chain_id=chain_row.id, organisation_id=members["factory"].organisation_id,
        name="Xu Jun", role="designer", mobile="13612345632",
    )  # fmt: skip
    rival, _ = create_chain(session, name="Rival Living")
    rival_shop, _ = add_organisation(session, chain_id=rival.id, kind="dealer", name="Pudong Two")
    add_member(
        session, chain_id=rival.id, organisation_id=rival_shop.id, name="Li Na Two",
        role="designer", mobile="13812345609",
    )  # fmt: skip
    session.commit()
    _log_in(client)

    def search(query: str, headers=EN) -> str:
        answer = client.get("/portal/directory", query_string={"q": query}, headers=headers)
        assert answer.status_code == 200
        return answer.text

    return search


def _names(page: str) -> set[str]:
    people = ("Li Na", "Wang Fang", "Ma Lin", "Guo Hua", "Xu Jun", "Huang Wei", "Li Na Two")
    return {name for name in people if f'class="row-title">{name}<' in page}


def test_the_page_has_a_labelled_search_field_and_calls_whole_numbers(client, directory):
    page = client.get("/portal/directory", headers=EN).text
    assert 'role="search"' in page and "<label>Name, organisation, role or mobile" in page
    assert 'href="tel:+8613812345602"' in page and ">138 1234 5602</a>" in page
    assert "133****5651" in page and "tel:+8613312345651" not in page  # masked: no call
    assert _names(page) == {"Li Na", "Wang Fang", "Ma Lin", "Guo Hua", "Xu Jun"}


def test_search_by_name_and_by_organisation(directory):
    assert _names(directory("guo")) == {"Guo Hua"}
    assert _names(directory("Foshan")) == {"Guo Hua", "Xu Jun"}
    assert _names(directory("Pudong")) == {"Li Na", "Wang Fang"}  # not the other chain's


def test_search_by_role_in_the_readers_language(directory):
    assert _names(directory("designer")) == {"Xu Jun"}
    assert _names(directory("设计师", headers={"Accept-Language": "zh-CN"})) == {"Xu Jun"}


def test_a_whole_number_is_found_however_it_is_typed(directory):
    for typed in ("13812345602", "+86 138 1234 5602", "0086-138-1234-5602", "1234 5602"):
        assert _names(directory(typed)) == {"Wang Fang"}, typed


def test_a_masked_number_is_found_only_by_what_it_shows(directory):
    assert _names(directory("5651")) == {"Ma Lin"}
    assert _names(directory("133")) == {"Ma Lin"}
    # Its hidden digits find nothing: neither the whole number nor a part of the middle.
    assert _names(directory("13312345651")) == set()
    assert _names(directory("+86 133 1234 5651")) == set()
    assert _names(directory("12345")) == {"Li Na", "Wang Fang"}  # own organisation: whole
    assert _names(directory("+86")) == {"Li Na", "Wang Fang"}  # a masked number hides it


def test_another_dealer_and_another_chain_never_turn_up(directory):
    for typed in ("Huang", "Tianhe", "13712345621", "5621", "Li Na Two", "13812345609", "5609"):
        assert _names(directory(typed)) == set(), typed
    assert "Nobody matches" in directory("Huang")
