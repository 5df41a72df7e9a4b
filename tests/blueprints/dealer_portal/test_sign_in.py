"""Signing in and out: rate limits on failures, the chain chooser, sessions the server ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from service.chain.chains import create_chain
from service.chain.members import add_member, update_member
from service.chain.organisations import add_organisation
from tests.blueprints.dealer_portal.test_portal import PASSWORD, _csrf

EMAIL = "li.na@pudong.example"


def _member(session, chain, org_name, email, password=PASSWORD, name="Li Na"):
    org, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name=org_name)
    return add_member(
        session,
        chain_id=chain.id,
        organisation_id=org.id,
        name=name,
        role="admin",
        email=email,
        password=password,
    )


@pytest.fixture
def acme(session):
    chain, _ = create_chain(session, name="Acme Home")
    member = _member(session, chain, "Pudong Store", EMAIL)
    session.commit()
    return chain, member


@pytest.fixture
def lumen(session, acme):
    """Another chain in which the same address is a member too, with the same password."""
    chain, _ = create_chain(session, name="Lumen Living")
    member = _member(session, chain, "Lumen Xuhui", EMAIL.upper())
    session.commit()
    return chain, member


def sign_in(client, email=EMAIL, password=PASSWORD, next_url=None, **kwargs):
    token = _csrf(client.get("/portal/login"))
    url = "/portal/login" + (f"?next={next_url}" if next_url else "")
    data = {"login": email, "password": password, "csrf_token": token}
    return client.post(url, data=data, **kwargs)


def signed_in(client) -> bool:
    return client.get("/portal/").status_code == 200


# Rate limits


def test_five_failures_a_minute_lock_the_account_with_retry_after(client, acme):
    for _ in range(5):
        assert sign_in(client, password="not the password").status_code == 401
    locked = sign_in(client)  # even the right password, now

    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in locked.text and 'name="login"' in locked.text
    assert not signed_in(client)
    # Another account from the same address is not locked by this one.
    other = sign_in(client, email="nobody@pudong.example", password="guess")
    assert other.status_code == 401


def test_the_lock_lifts_when_the_minute_is_over(client, acme):
    with time_machine.travel("2026-12-01 12:00:00Z", tick=False) as clock:
        for _ in range(5):
            sign_in(client, password="not the password")
        assert sign_in(client).status_code == 429
        clock.shift(timedelta(seconds=61))
        assert sign_in(client).status_code == 302


def test_successes_do_not_count(client, acme):
    for _ in range(4):
        assert sign_in(client, password="not the password").status_code == 401
    for _ in range(8):
        assert sign_in(client).status_code == 302
    assert sign_in(client, password="not the password").status_code == 401  # the 5th failure
    assert sign_in(client).status_code == 429


def test_twenty_failures_a_minute_from_one_address_lock_the_address(client, acme):
    for n in range(20):
        response = sign_in(client, email=f"guess{n}@pudong.example", password="guess")
        assert response.status_code == 401
    assert sign_in(client).status_code == 429
    other_client = sign_in(client, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_client.status_code == 302


def test_failures_are_counted_in_the_apps_redis(client, acme, app):
    sign_in(client, password="not the password")
    prefix = f"{app.extensions['chain_collab.config'].queue_name}:limits"
    keys = app.extensions["redis"].client.keys(f"{prefix}:*")
    assert len(keys) == 2  # one for the account, one for the address
    assert not any(EMAIL.encode() in key for key in keys)  # the address is hashed


def test_a_malformed_form_does_not_count_as_a_failure(client, acme):
    for _ in range(6):
        assert sign_in(client, email="not an address").status_code == 422
    assert sign_in(client).status_code == 302


# Sessions


def test_a_copied_cookie_stops_working_after_sign_out(client, acme, app):
    sign_in(client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert signed_in(copy)

    client.post("/portal/logout", data={"csrf_token": _csrf(client.get("/portal/"))})

    assert not signed_in(client)
    assert not signed_in(copy)
    sign_in(copy)  # a new sign-in works
    assert signed_in(copy)


def test_a_session_ends_after_twelve_hours_idle_but_not_while_used(client, acme, app):
    def with_cookie(value):
        # The server's judgement, not the browser's: send the cookie whatever its expiry.
        fresh = app.test_client()
        fresh.set_cookie("session", value)
        return signed_in(fresh)

    with time_machine.travel("2026-12-01 08:00:00Z", tick=False) as clock:
        sign_in(client)
        first = client.get_cookie("session").value
        clock.shift(timedelta(hours=11, minutes=59))
        assert with_cookie(first)
        assert signed_in(client)  # used: idle time starts again
        kept = client.get_cookie("session").value
        clock.shift(timedelta(hours=11, minutes=59))
        assert signed_in(client)
        clock.shift(timedelta(hours=12, minutes=1))
        assert not with_cookie(first)
        assert not with_cookie(kept)
        assert not signed_in(client)


# One address in several chains


def test_an_address_in_two_chains_chooses_after_the_password(client, acme, lumen):
    chosen = sign_in(client, next_url="/portal/directory")
    assert chosen.status_code == 302
    assert chosen.headers["Location"] == "/portal/login/chain"
    assert not signed_in(client)
    page = client.get("/portal/login/chain")
    assert "Acme Home" in page.text and "Lumen Living" in page.text

    _, member = lumen
    done = client.post(
        "/portal/login/chain", data={"member_id": str(member.id), "csrf_token": _csrf(page)}
    )

    assert done.headers["Location"] == "/portal/directory"
    assert "Lumen Xuhui" in client.get("/portal/").text


def test_chains_are_named_only_to_their_password(client, acme, lumen, session):
    _, theirs = lumen
    update_member(session, chain_id=theirs.chain_id, member_id=theirs.id, email=None)
    _member(session, lumen[0], "Lumen Minhang", EMAIL, password="lumen's own pw", name="Li")
    session.commit()

    wrong = sign_in(client, password="no chain's password")
    assert wrong.status_code == 401 and "Lumen" not in wrong.text
    direct = sign_in(client)  # right only in Acme: straight in, Lumen never named
    assert direct.headers["Location"] == "/portal/"
    assert "Lumen" not in client.get("/portal/").text
    assert client.get("/portal/login/chain").status_code == 302


def test_the_chooser_takes_only_a_chain_it_offered(client, acme, lumen, session):
    stranger = _member(session, lumen[0], "Elsewhere", "x@elsewhere.example")
    session.commit()
    sign_in(client)
    page = client.get("/portal/login/chain")

    forged = client.post(
        "/portal/login/chain", data={"member_id": str(stranger.id), "csrf_token": _csrf(page)}
    )

    assert forged.status_code == 422
    assert not signed_in(client)


def test_the_chooser_lapses(client, acme, lumen):
    with time_machine.travel("2026-12-01 08:00:00Z", tick=False) as clock:
        sign_in(client)
        clock.shift(timedelta(minutes=6))
        assert client.get("/portal/login/chain").headers["Location"] == "/portal/login"
