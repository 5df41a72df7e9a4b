"""Chains, their brand, and the API keys that act for it."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from service.chain.chains import (
    API_KEY_PREFIX,
    brand_of,
    chain_for_api_key,
    create_chain,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
)
from service.chain.models import ApiKey
from service.db import new_id
from service.errors import Invalid, NotFound


def test_new_chain_has_its_brand_as_first_organisation(session):
    chain, brand = create_chain(session, name=" Acme Home ", timezone="Europe/Berlin")

    assert (chain.name, chain.timezone) == ("Acme Home", "Europe/Berlin")
    assert (brand.kind, brand.name, brand.chain_id) == ("brand", "Acme Home", chain.id)
    assert brand_of(session, chain.id).id == brand.id


def test_chain_time_zone_defaults_to_shanghai(session):
    chain, _ = create_chain(session, name="Acme Home")

    assert chain.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": "  "}, "name"), ({"name": "Acme", "timezone": "Mars/Olympus"}, "timezone")],
)
def test_blank_name_or_unknown_time_zone_is_refused(session, fields, field):
    with pytest.raises(Invalid) as raised:
        create_chain(session, **fields)
    assert field in raised.value.details["fields"]


def test_api_key_is_shown_once_and_only_its_sha256_is_stored(session, acme):
    api_key, key = issue_api_key(session, chain_id=acme.id, name="ERP")

    assert key.startswith(API_KEY_PREFIX) and len(key) > 40
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(api_key.prefix) and len(api_key.prefix) < len(key) // 2
    stored = session.execute(select(ApiKey.__table__)).all()
    assert stored
    for row in stored:
        for value in row:
            assert key not in str(value)
            assert key[len(API_KEY_PREFIX) :] not in str(value)


def test_live_key_finds_its_chain(session, acme):
    _, key = issue_api_key(session, chain_id=acme.id, name="ERP")

    assert chain_for_api_key(session, key) == acme.id


def test_revoked_key_finds_nothing(session, acme):
    api_key, key = issue_api_key(session, chain_id=acme.id, name="ERP")

    revoked = revoke_api_key(session, chain_id=acme.id, key_id=api_key.id)

    assert revoked.revoked_at is not None
    assert chain_for_api_key(session, key) is None


@pytest.mark.parametrize(
    "garbage",
    ["", "cck_", "cck_unknown", "Bearer cck_x", "not-a-key", " " * 3, "cck_" + "x" * 5000],
)
def test_unknown_or_garbage_key_finds_nothing(session, acme, garbage):
    issue_api_key(session, chain_id=acme.id, name="ERP")

    assert chain_for_api_key(session, garbage) is None


def test_key_must_match_whole(session, acme):
    _, key = issue_api_key(session, chain_id=acme.id, name="ERP")

    for near_miss in (key[:-1], key + "x", key.upper(), f" {key}"):
        assert chain_for_api_key(session, near_miss) is None


def test_a_chain_may_have_several_keys_each_revoked_alone(session, acme, rival):
    first, first_key = issue_api_key(session, chain_id=acme.id, name="ERP")
    second, second_key = issue_api_key(session, chain_id=acme.id, name="BI")
    _, their_key = issue_api_key(session, chain_id=rival.id, name="ERP")

    assert first_key != second_key
    assert [api_key.id for api_key in list_api_keys(session, acme.id)] == [first.id, second.id]
    assert chain_for_api_key(session, their_key) == rival.id

    revoke_api_key(session, chain_id=acme.id, key_id=first.id)

    assert chain_for_api_key(session, first_key) is None
    assert chain_for_api_key(session, second_key) == acme.id
    assert chain_for_api_key(session, their_key) == rival.id


def test_revoking_twice_keeps_the_first_revocation_time(session, acme):
    api_key, _ = issue_api_key(session, chain_id=acme.id, name="ERP")
    first = revoke_api_key(session, chain_id=acme.id, key_id=api_key.id).revoked_at

    assert revoke_api_key(session, chain_id=acme.id, key_id=api_key.id).revoked_at == first


def test_revoking_a_key_of_another_chain_is_not_found(session, acme, rival):
    theirs, their_key = issue_api_key(session, chain_id=rival.id, name="ERP")

    with pytest.raises(NotFound):
        revoke_api_key(session, chain_id=acme.id, key_id=theirs.id)
    with pytest.raises(NotFound):
        revoke_api_key(session, chain_id=acme.id, key_id=new_id())
    assert chain_for_api_key(session, their_key) == rival.id
