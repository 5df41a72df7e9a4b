"""Invitations: single-use, expiring codes by which a dealer or factory joins a chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from service.chain.directory_groups import delete_group, ensure_path
from service.chain.invitations import (
    MAX_HOURS,
    accept_invitation,
    create_invitation,
    invitation_status,
    list_invitations,
    open_invitation,
)
from service.chain.members import authenticate_member
from service.chain.models import Invitation, Member, Organisation
from service.chain.organisations import active_webhook_secrets
from service.errors import Gone, Invalid, NotFound

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def accept(session, code, **fields):
    fields = {
        "organisation_name": "Shanghai Home",
        "admin_name": "Li Wei",
        "admin_email": "li.wei@example.com",
        "password": PASSWORD,
        **fields,
    }
    return accept_invitation(session, code=code, **fields)


@pytest.fixture
def invited_dealer(session, acme):
    return create_invitation(session, chain_id=acme.id, kind="dealer")


def test_code_is_shown_once_and_only_its_hash_is_stored(session, acme, invited_dealer):
    invitation, code = invited_dealer

    stored = session.execute(select(Invitation.__table__)).all()
    assert all(code not in str(value) for row in stored for value in row)
    assert open_invitation(session, code).id == invitation.id


def test_invitation_expires_after_72_hours_by_default(session, acme):
    with time_machine.travel(NOW, tick=False):
        invitation, _ = create_invitation(session, chain_id=acme.id, kind="dealer")

    assert invitation.expires_at == NOW + timedelta(hours=72)


def test_accepting_joins_the_organisation_with_its_admin(session, acme, invited_dealer):
    invitation, code = invited_dealer

    an_hour_later = invitation.created_at + timedelta(hours=1)
    with time_machine.travel(an_hour_later, tick=False):
        organisation, admin, secret = accept(session, code, admin_mobile="138 1234 5678")

    assert secret is None
    assert (organisation.chain_id, organisation.kind, organisation.name) == (
        acme.id,
        "dealer",
        "Shanghai Home",
    )
    assert (admin.organisation_id, admin.role, admin.mobile) == (
        organisation.id,
        "admin",
        "+8613812345678",
    )
    assert invitation.organisation_id == organisation.id
    assert invitation.accepted_at == an_hour_later
    assert invitation_status(invitation) == "accepted"


def test_admin_can_log_in_with_the_password_given_on_joining(session, invited_dealer):
    _, code = invited_dealer
    _, admin, _ = accept(session, code, admin_email="Li.Wei@Example.com")

    assert authenticate_member(session, login="li.wei@example.com", password=PASSWORD) == [admin]
    assert authenticate_member(session, login="li.wei@example.com", password="wrong!!!") == []


def test_code_works_once(session, invited_dealer, rows):
    _, code = invited_dealer
    accept(session, code)
    organisations, members = rows(Organisation), rows(Member)

    with pytest.raises(Gone) as raised:
        accept(session, code, organisation_name="Again", admin_email="again@example.com")

    assert raised.value.code == "invitation_accepted"
    assert (rows(Organisation), rows(Member)) == (organisations, members)


def test_code_expires(session, invited_dealer, rows):
    invitation, code = invited_dealer
    organisations = rows(Organisation)

    with time_machine.travel(invitation.expires_at - timedelta(seconds=1), tick=False):
        assert open_invitation(session, code).id == invitation.id
    with time_machine.travel(invitation.expires_at + timedelta(seconds=1), tick=False):
        assert invitation_status(invitation) == "expired"
        with pytest.raises(Gone) as raised:
            accept(session, code)

    assert raised.value.code == "invitation_expired"
    assert invitation.accepted_at is None
    assert rows(Organisation) == organisations


@pytest.mark.parametrize("code", ["", "no-such-code", "x" * 500])
def test_unknown_code_is_not_found(session, invited_dealer, code):
    with pytest.raises(NotFound):
        accept(session, code)


def test_joining_organisation_lands_in_the_invitations_groups(session, acme):
    east, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")
    south, _ = ensure_path(session, chain_id=acme.id, path="Dealers/South")
    _, code = create_invitation(
        session, chain_id=acme.id, kind="dealer", group_ids=[east.id, south.id]
    )

    organisation, _, _ = accept(session, code)
    session.refresh(organisation)

    assert [group.path for group in organisation.groups] == ["Dealers/East", "Dealers/South"]


def test_group_deleted_since_the_invitation_is_skipped(session, acme):
    east, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")
    south, _ = ensure_path(session, chain_id=acme.id, path="Dealers/South")
    _, code = create_invitation(
        session, chain_id=acme.id, kind="dealer", group_ids=[east.id, south.id]
    )
    delete_group(session, chain_id=acme.id, group_id=south.id)

    organisation, _, _ = accept(session, code)
    session.refresh(organisation)

    assert [group.id for group in organisation.groups] == [east.id]


def test_invited_factory_gets_a_webhook_secret(session, acme):
    _, code = create_invitation(session, chain_id=acme.id, kind="factory")

    organisation, _, secret = accept(session, code, organisation_name="Panels")

    assert organisation.kind == "factory"
    assert secret.startswith("whsec_")
    assert active_webhook_secrets(session, organisation.id) == [secret]


def test_failed_acceptance_leaves_nothing_behind_once_rolled_back(session, acme, invited_dealer):
    invitation, code = invited_dealer
    savepoint = session.begin_nested()

    with pytest.raises(Invalid):
        accept(session, code, password="short")
    savepoint.rollback()

    assert open_invitation(session, code).id == invitation.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "brand"}, "kind"),
        ({"kind": "dealer", "expires_in_hours": 0}, "expires_in_hours"),
        ({"kind": "dealer", "expires_in_hours": MAX_HOURS + 1}, "expires_in_hours"),
    ],
)
def test_bad_invitation_is_refused(session, acme, fields, field):
    with pytest.raises(Invalid) as raised:
        create_invitation(session, chain_id=acme.id, **fields)
    assert field in raised.value.details["fields"]


def test_invitation_into_another_chains_group_is_refused(session, acme, rival):
    theirs, _ = ensure_path(session, chain_id=rival.id, path="Dealers")

    with pytest.raises(Invalid) as raised:
        create_invitation(session, chain_id=acme.id, kind="dealer", group_ids=[theirs.id])
    assert "group_ids" in raised.value.details["fields"]


def test_invitations_are_listed_per_chain(session, acme, rival, invited_dealer):
    invitation, _ = invited_dealer
    create_invitation(session, chain_id=rival.id, kind="factory")

    listed = list_invitations(session, chain_id=acme.id).items

    assert [item.id for item in listed] == [invitation.id]
