"""Set-password links: one-time, expiring, kept only as a hash, one live link a member."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from service.chain.chains import create_chain
from service.chain.members import add_member, authenticate_member, remove_member
from service.chain.models import PasswordLink
from service.chain.organisations import add_organisation
from service.chain.password_links import (
    make_password_link,
    open_password_link,
    use_password_link,
)
from service.db import utcnow
from service.errors import Gone, Invalid, NotFound


@pytest.fixture
def member(session, acme):
    dealer, _ = add_organisation(session, chain_id=acme.id, kind="dealer", name="Pudong Store")
    return add_member(session, chain_id=acme.id, organisation_id=dealer.id, name="Li Na",
                      role="designer", mobile="13812345601")  # fmt: skip


def _make(session, member, **kwargs):
    return make_password_link(
        session, chain_id=member.chain_id, member_id=member.id, made_by="test", **kwargs
    )


def test_a_link_keeps_only_the_hash_of_its_token_and_lasts_72_hours(session, member):
    link, token = _make(session, member)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(session.scalars(select(PasswordLink.token_hash)).all())
    assert link.expires_at - link.created_at == timedelta(hours=72)
    assert len(token) >= 32


def test_a_link_sets_the_password_once_and_ends_the_other_sessions(session, member):
    _, token = _make(session, member)
    generation = member.session_generation

    assert use_password_link(session, token=token, password="a new secret") is member
    assert member.session_generation == generation + 1
    assert authenticate_member(session, login="138 1234 5601", password="a new secret") == [member]
    with pytest.raises(Gone) as used:
        use_password_link(session, token=token, password="stolen secret")
    assert used.value.code == "password_link_used"
    assert authenticate_member(session, login="13812345601", password="stolen secret") == []


def test_an_expired_link_is_refused(session, member):
    _, token = _make(session, member, expires_in_hours=1)
    later = utcnow() + timedelta(hours=1, seconds=1)
    with time_machine.travel(later), pytest.raises(Gone) as expired:
        use_password_link(session, token=token, password="a new secret")
    assert expired.value.code == "password_link_expired"
    assert member.password_hash is None


def test_a_newer_link_replaces_the_older(session, member):
    _, older = _make(session, member)
    _, newer = _make(session, member)
    with pytest.raises(Gone):
        open_password_link(session, older)
    assert open_password_link(session, newer)[1] is member


def test_a_refused_password_leaves_the_link_usable(session, member):
    _, token = _make(session, member)
    with pytest.raises(Invalid):
        use_password_link(session, token=token, password="short")
    assert open_password_link(session, token)[1] is member


def test_a_link_is_only_for_a_live_member_of_the_chain(session, acme, member):
    other, _ = create_chain(session, name="Rival Living")
    with pytest.raises(NotFound):
        make_password_link(session, chain_id=other.id, member_id=member.id, made_by="test")
    _, token = _make(session, member)
    remove_member(session, chain_id=acme.id, member_id=member.id)
    with pytest.raises(NotFound):
        open_password_link(session, token)
    with pytest.raises(NotFound):
        open_password_link(session, "never-made")


@pytest.mark.parametrize("hours", [0, 721])
def test_a_links_lifetime_is_bounded(session, member, hours):
    with pytest.raises(Invalid):
        _make(session, member, expires_in_hours=hours)
