"""Organisations of a chain and the webhook secrets of its factories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from service.chain.directory_groups import ensure_path
from service.chain.models import Organisation, WebhookSecret
from service.chain.organisations import (
    SECRET_GRACE,
    active_webhook_secrets,
    add_organisation,
    get_organisation,
    list_organisations,
    remove_organisation,
    rotate_webhook_secret,
    update_organisation,
)
from service.errors import Conflict, Invalid, NotFound

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_added_dealer_has_no_webhook_secret(session, acme, rows):
    dealer, secret = add_organisation(
        session, chain_id=acme.id, kind="dealer", name=" Shanghai Home ", custom_id="D-001"
    )

    assert secret is None
    assert (dealer.kind, dealer.name, dealer.custom_id) == ("dealer", "Shanghai Home", "D-001")
    assert active_webhook_secrets(session, dealer.id) == []
    assert rows(WebhookSecret) == 0


def test_added_factory_gets_a_webhook_secret(session, acme):
    factory, secret = add_organisation(session, chain_id=acme.id, kind="factory", name="Panels")

    assert secret.startswith("whsec_")
    assert len(secret) > len("whsec_") + 24
    assert active_webhook_secrets(session, factory.id) == [secret]


def test_every_factory_gets_its_own_secret(session, acme):
    _, first = add_organisation(session, chain_id=acme.id, kind="factory", name="Panels")
    _, second = add_organisation(session, chain_id=acme.id, kind="factory", name="Frames")

    assert first != second


@pytest.mark.parametrize("kind", ["brand", "customer", ""])
def test_only_dealers_and_factories_can_be_added(session, acme, kind):
    with pytest.raises(Invalid) as raised:
        add_organisation(session, chain_id=acme.id, kind=kind, name="Someone")
    assert "kind" in raised.value.details["fields"]


def test_blank_name_is_refused(session, acme):
    with pytest.raises(Invalid) as raised:
        add_organisation(session, chain_id=acme.id, kind="dealer", name="  ")
    assert "name" in raised.value.details["fields"]


def test_added_organisation_is_placed_in_its_groups(session, acme):
    east, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")
    south, _ = ensure_path(session, chain_id=acme.id, path="Dealers/South")

    dealer, _ = add_organisation(
        session, chain_id=acme.id, kind="dealer", name="Home", group_ids=[east.id, south.id]
    )
    session.refresh(dealer)

    assert [group.path for group in dealer.groups] == ["Dealers/East", "Dealers/South"]


def test_custom_id_is_unique_among_live_organisations(session, acme):
    add_organisation(session, chain_id=acme.id, kind="dealer", name="First", custom_id="D-1")

    with pytest.raises(Conflict) as raised:
        add_organisation(session, chain_id=acme.id, kind="factory", name="Second", custom_id="D-1")
    assert "custom_id" in raised.value.details["fields"]


def test_custom_id_is_reusable_after_removal(session, acme):
    first, _ = add_organisation(
        session, chain_id=acme.id, kind="dealer", name="First", custom_id="D-1"
    )
    remove_organisation(session, chain_id=acme.id, organisation_id=first.id)

    second, _ = add_organisation(
        session, chain_id=acme.id, kind="dealer", name="Second", custom_id="D-1"
    )

    assert second.id != first.id


def test_same_custom_id_in_two_chains_is_fine(session, acme, rival):
    add_organisation(session, chain_id=acme.id, kind="dealer", name="Ours", custom_id="D-1")

    theirs, _ = add_organisation(
        session, chain_id=rival.id, kind="dealer", name="Theirs", custom_id="D-1"
    )

    assert theirs.custom_id == "D-1"


def test_update_to_a_taken_custom_id_conflicts_but_keeping_ones_own_is_fine(session, acme):
    add_organisation(session, chain_id=acme.id, kind="dealer", name="First", custom_id="D-1")
    second, _ = add_organisation(
        session, chain_id=acme.id, kind="dealer", name="Second", custom_id="D-2"
    )

    with pytest.raises(Conflict):
        update_organisation(session, chain_id=acme.id, organisation_id=second.id, custom_id="D-1")
    updated = update_organisation(
        session, chain_id=acme.id, organisation_id=second.id, custom_id="D-2", name=" Renamed "
    )
    assert (updated.custom_id, updated.name) == ("D-2", "Renamed")


def test_brand_cannot_be_removed(session, acme):
    with pytest.raises(Conflict):
        remove_organisation(session, chain_id=acme.id, organisation_id=acme.brand.id)
    assert get_organisation(session, acme.id, acme.brand.id).removed_at is None


def test_removed_organisation_is_gone_from_reads_and_lists(session, acme):
    dealer, _ = add_organisation(session, chain_id=acme.id, kind="dealer", name="Leaving")

    remove_organisation(session, chain_id=acme.id, organisation_id=dealer.id)

    with pytest.raises(NotFound):
        get_organisation(session, acme.id, dealer.id)
    listed = list_organisations(session, chain_id=acme.id).items
    assert [organisation.id for organisation in listed] == [acme.brand.id]
    with pytest.raises(NotFound):
        remove_organisation(session, chain_id=acme.id, organisation_id=dealer.id)
    # Kept as a record.
    assert session.get(Organisation, dealer.id).removed_at is not None


def test_organisation_of_another_chain_is_not_found(session, acme, rival):
    theirs, _ = add_organisation(session, chain_id=rival.id, kind="dealer", name="Theirs")

    with pytest.raises(NotFound):
        get_organisation(session, acme.id, theirs.id)
    with pytest.raises(NotFound):
        update_organisation(session, chain_id=acme.id, organisation_id=theirs.id, name="Mine")
    with pytest.raises(NotFound):
        remove_organisation(session, chain_id=acme.id, organisation_id=theirs.id)


def test_list_filters_by_kind_and_by_group_subtree(session, acme):
    east, _ = ensure_path(session, chain_id=acme.id, path="Dealers/East")
    ensure_path(session, chain_id=acme.id, path="Dealers/South")
    dealers = ensure_path(session, chain_id=acme.id, path="Dealers")[0]
    in_east, _ = add_organisation(
        session, chain_id=acme.id, kind="dealer", name="East", group_ids=[east.id]
    )
    add_organisation(session, chain_id=acme.id, kind="dealer", name="Nowhere")
    factory, _ = add_organisation(session, chain_id=acme.id, kind="factory", name="Panels")

    factories = list_organisations(session, chain_id=acme.id, kind="factory").items
    under_dealers = list_organisations(session, chain_id=acme.id, group_id=dealers.id).items

    assert [organisation.id for organisation in factories] == [factory.id]
    assert [organisation.id for organisation in under_dealers] == [in_east.id]


# Webhook secrets


@pytest.fixture
def factory(session, acme):
    with time_machine.travel(NOW, tick=False):
        factory, secret = add_organisation(session, chain_id=acme.id, kind="factory", name="Panels")
    return factory, secret


def test_removal_expires_the_webhook_secrets(session, acme, factory):
    organisation, _ = factory
    with time_machine.travel(NOW, tick=False):
        rotate_webhook_secret(session, chain_id=acme.id, organisation_id=organisation.id)

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        remove_organisation(session, chain_id=acme.id, organisation_id=organisation.id)
        assert active_webhook_secrets(session, organisation.id) == []
    # Not even the grace period of the rotated secret survives the removal.
    assert active_webhook_secrets(session, organisation.id, now=NOW + timedelta(hours=2)) == []


def test_rotation_keeps_the_old_secret_valid_for_the_grace_period(session, acme, factory):
    organisation, old = factory

    with time_machine.travel(NOW, tick=False):
        new, old_until = rotate_webhook_secret(
            session, chain_id=acme.id, organisation_id=organisation.id
        )
        assert active_webhook_secrets(session, organisation.id) == [new, old]

    assert new != old and new.startswith("whsec_")
    assert old_until == NOW + SECRET_GRACE
    with time_machine.travel(NOW + SECRET_GRACE - timedelta(seconds=1), tick=False):
        assert active_webhook_secrets(session, organisation.id) == [new, old]
    with time_machine.travel(NOW + SECRET_GRACE, tick=False):
        assert active_webhook_secrets(session, organisation.id) == [new]
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        assert active_webhook_secrets(session, organisation.id) == [new]


def test_second_rotation_inside_the_window_keeps_the_first_ones_expiry(session, acme, factory):
    organisation, first = factory
    with time_machine.travel(NOW, tick=False):
        second, _ = rotate_webhook_secret(
            session, chain_id=acme.id, organisation_id=organisation.id
        )
    later = NOW + timedelta(hours=6)
    with time_machine.travel(later, tick=False):
        third, second_until = rotate_webhook_secret(
            session, chain_id=acme.id, organisation_id=organisation.id
        )
        assert active_webhook_secrets(session, organisation.id) == [third, second, first]

    assert second_until == later + SECRET_GRACE
    expiries = dict(
        session.execute(
            select(WebhookSecret.secret, WebhookSecret.expires_at).where(
                WebhookSecret.organisation_id == organisation.id
            )
        ).all()
    )
    assert expiries == {first: NOW + SECRET_GRACE, second: later + SECRET_GRACE, third: None}
    with time_machine.travel(NOW + SECRET_GRACE, tick=False):
        assert active_webhook_secrets(session, organisation.id) == [third, second]
    with time_machine.travel(later + SECRET_GRACE, tick=False):
        assert active_webhook_secrets(session, organisation.id) == [third]


def test_only_factories_have_secrets_to_rotate(session, acme):
    dealer, _ = add_organisation(session, chain_id=acme.id, kind="dealer", name="Home")

    with pytest.raises(Invalid):
        rotate_webhook_secret(session, chain_id=acme.id, organisation_id=dealer.id)
    with pytest.raises(Invalid):
        rotate_webhook_secret(session, chain_id=acme.id, organisation_id=acme.brand.id)


def test_removed_factory_cannot_rotate(session, acme, factory):
    organisation, _ = factory
    remove_organisation(session, chain_id=acme.id, organisation_id=organisation.id)

    with pytest.raises(NotFound):
        rotate_webhook_secret(session, chain_id=acme.id, organisation_id=organisation.id)


def test_factory_of_another_chain_cannot_be_rotated(session, rival, factory):
    organisation, secret = factory

    with pytest.raises(NotFound):
        rotate_webhook_secret(session, chain_id=rival.id, organisation_id=organisation.id)
    assert active_webhook_secrets(session, organisation.id) == [secret]
