"""Members: the people of an organisation, and their portal passwords."""

from __future__ import annotations

import pytest

from service.chain.members import (
    add_member,
    authenticate_member,
    get_member,
    list_members,
    remove_member,
    update_member,
)
from service.chain.organisations import add_organisation, remove_organisation
from service.errors import Conflict, Invalid, NotFound

PASSWORD = "correct horse battery"


@pytest.fixture
def dealer(session, acme):
    dealer, _ = add_organisation(session, chain_id=acme.id, kind="dealer", name="Home")
    return dealer


def add(session, organisation, **fields):
    fields = {"name": "Li Wei", "role": "service_specialist", **fields}
    return add_member(
        session, chain_id=organisation.chain_id, organisation_id=organisation.id, **fields
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_mobile_is_stored_in_e164_with_86_by_default(session, dealer, given, stored):
    assert add(session, dealer, mobile=given).mobile == stored


@pytest.mark.parametrize("mobile", ["12345", "not a number", "+86 138", "+999 12345678"])
def test_invalid_mobile_is_refused_naming_the_field(session, dealer, mobile):
    with pytest.raises(Invalid) as raised:
        add(session, dealer, mobile=mobile)
    assert list(raised.value.details["fields"]) == ["mobile"]


def test_blank_name_and_unknown_role_are_refused(session, dealer):
    with pytest.raises(Invalid) as raised:
        add(session, dealer, name="  ")
    assert "name" in raised.value.details["fields"]
    with pytest.raises(Invalid) as raised:
        add(session, dealer, role="boss")
    assert "role" in raised.value.details["fields"]


def test_email_is_stored_lower_case(session, dealer):
    assert add(session, dealer, email="  Li.Wei@Example.COM ").email == "li.wei@example.com"


def test_email_is_unique_among_a_chains_live_members_ignoring_case(session, dealer):
    add(session, dealer, email="li.wei@example.com")

    with pytest.raises(Conflict) as raised:
        add(session, dealer, name="Other", email="LI.WEI@example.com")
    assert "email" in raised.value.details["fields"]


def test_an_address_used_in_another_chain_is_free_in_this_one(session, dealer, rival):
    # Refusing it would tell one chain who works for another, and let it reserve their address.
    theirs = add(session, rival.brand, email="li.wei@example.com")
    ours = add(session, dealer, email="Li.Wei@Example.com")
    session.flush()

    assert ours.email == theirs.email == "li.wei@example.com"
    assert ours.chain_id != theirs.chain_id
    other = add(session, dealer, name="Other", email="other@example.com")
    update_member(session, chain_id=dealer.chain_id, member_id=other.id, email=None)
    with pytest.raises(Conflict):  # but still unique within the chain, on update too
        update_member(
            session, chain_id=dealer.chain_id, member_id=other.id, email="li.wei@example.com"
        )


def test_email_of_a_removed_member_can_be_used_again(session, dealer):
    leaving = add(session, dealer, email="li.wei@example.com")
    remove_member(session, chain_id=dealer.chain_id, member_id=leaving.id)

    joining = add(session, dealer, name="New Li", email="Li.Wei@example.com")

    assert joining.email == "li.wei@example.com"


def test_email_of_a_member_of_a_removed_organisation_can_be_used_again(session, dealer, acme):
    add(session, dealer, email="li.wei@example.com")
    remove_organisation(session, chain_id=dealer.chain_id, organisation_id=dealer.id)
    new_home, _ = add_organisation(session, chain_id=acme.id, kind="dealer", name="New Home")

    joining = add(session, new_home, email="li.wei@example.com")

    assert joining.organisation_id == new_home.id


def test_update_to_a_taken_email_conflicts_but_keeping_ones_own_is_fine(session, dealer):
    add(session, dealer, email="first@example.com")
    second = add(session, dealer, name="Second", email="second@example.com")

    with pytest.raises(Conflict):
        update_member(
            session, chain_id=dealer.chain_id, member_id=second.id, email="FIRST@example.com"
        )
    kept = update_member(
        session, chain_id=dealer.chain_id, member_id=second.id, email="Second@Example.com"
    )
    assert kept.email == "second@example.com"


def test_update_clears_mobile_and_email_with_none_and_leaves_unmentioned_fields(session, dealer):
    member = add(session, dealer, mobile="13812345678", email="li@example.com")

    update_member(session, chain_id=dealer.chain_id, member_id=member.id, mobile=None)
    assert (member.mobile, member.email) == (None, "li@example.com")

    update_member(session, chain_id=dealer.chain_id, member_id=member.id, email=None)
    assert (member.mobile, member.email) == (None, None)


def test_update_normalises_a_new_mobile_and_refuses_a_bad_one(session, dealer):
    member = add(session, dealer)

    update_member(session, chain_id=dealer.chain_id, member_id=member.id, mobile="139 0000 0001")
    assert member.mobile == "+8613900000001"
    with pytest.raises(Invalid) as raised:
        update_member(session, chain_id=dealer.chain_id, member_id=member.id, mobile="123")
    assert "mobile" in raised.value.details["fields"]


def test_update_renames_and_changes_role(session, dealer):
    member = add(session, dealer)

    update_member(
        session, chain_id=dealer.chain_id, member_id=member.id, name=" Wang Fang ", role="designer"
    )

    assert (member.name, member.role) == ("Wang Fang", "designer")
    with pytest.raises(Invalid):
        update_member(session, chain_id=dealer.chain_id, member_id=member.id, role="boss")


def test_removed_member_is_not_found_nor_listed(session, dealer):
    staying = add(session, dealer, name="Staying")
    leaving = add(session, dealer, name="Leaving")

    remove_member(session, chain_id=dealer.chain_id, member_id=leaving.id)

    with pytest.raises(NotFound):
        get_member(session, dealer.chain_id, leaving.id)
    listed = list_members(session, chain_id=dealer.chain_id, organisation_id=dealer.id).items
    assert [member.id for member in listed] == [staying.id]


def test_member_of_another_chain_is_not_found(session, dealer, rival):
    outsider = add(session, rival.brand)

    with pytest.raises(NotFound):
        get_member(session, dealer.chain_id, outsider.id)
    with pytest.raises(NotFound):
        update_member(session, chain_id=dealer.chain_id, member_id=outsider.id, name="Mine")
    with pytest.raises(NotFound):
        remove_member(session, chain_id=dealer.chain_id, member_id=outsider.id)


def test_member_cannot_be_added_to_a_removed_organisation(session, dealer):
    remove_organisation(session, chain_id=dealer.chain_id, organisation_id=dealer.id)

    with pytest.raises(NotFound):
        add(session, dealer)


def test_password_shorter_than_eight_characters_is_refused(session, dealer):
    with pytest.raises(Invalid) as raised:
        add(session, dealer, email="li@example.com", password="short")
    assert "password" in raised.value.details["fields"]


# Logging in


@pytest.fixture
def with_login(session, dealer):
    return add(session, dealer, email="li.wei@example.com", password=PASSWORD)


def test_member_logs_in_with_the_right_password(session, with_login):
    members = authenticate_member(session, login=" LI.WEI@example.com ", password=PASSWORD)

    assert [member.id for member in members] == [with_login.id]
    assert with_login.password_hash != PASSWORD


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("li.wei@example.com", "wrong password"),
        ("li.wei@example.com", ""),
        ("nobody@example.com", PASSWORD),
    ],
)
def test_wrong_password_or_unknown_email_does_not_log_in(session, with_login, email, password):
    assert authenticate_member(session, login=email, password=password) == []


def test_member_without_a_password_cannot_log_in(session, dealer):
    add(session, dealer, email="nopass@example.com")

    assert authenticate_member(session, login="nopass@example.com", password="") == []
    assert authenticate_member(session, login="nopass@example.com", password=PASSWORD) == []


def test_removed_member_cannot_log_in(session, dealer, with_login):
    remove_member(session, chain_id=dealer.chain_id, member_id=with_login.id)

    assert authenticate_member(session, login="li.wei@example.com", password=PASSWORD) == []


def test_member_of_removed_organisation_cannot_log_in(session, dealer, with_login):
    remove_organisation(session, chain_id=dealer.chain_id, organisation_id=dealer.id)

    assert authenticate_member(session, login="li.wei@example.com", password=PASSWORD) == []


def test_an_address_in_several_chains_logs_in_only_where_the_password_is_right(
    session, with_login, rival
):
    elsewhere = add(session, rival.brand, email="li.wei@example.com", password="another one!")
    also = add(session, rival.brand, name="Twin", email="twin@example.com", password=PASSWORD)

    assert authenticate_member(session, login="li.wei@example.com", password=PASSWORD) == [
        with_login
    ]
    assert authenticate_member(session, login="li.wei@example.com", password="another one!") == [
        elsewhere
    ]
    update_member(session, chain_id=also.chain_id, member_id=also.id, email=None)
    remove_member(session, chain_id=elsewhere.chain_id, member_id=elsewhere.id)
    same = add(session, rival.brand, name="Li", email="li.wei@example.com", password=PASSWORD)
    found = authenticate_member(session, login="li.wei@example.com", password=PASSWORD)
    assert sorted(m.id for m in found) == sorted([with_login.id, same.id])
