"""Security headers on every response, and the session cookie Secure over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from service.app import create_app
from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from tests.blueprints.dealer_portal.test_portal import PASSWORD, _csrf

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def policy(response) -> dict[str, str]:
    directives = response.headers["Content-Security-Policy"].split(";")
    return {d.split()[0]: d.strip() for d in directives if d.strip()}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/portal/login"),
        ("GET", "/portal/"),  # a redirect
        ("GET", "/portal/nope"),  # a 404
        ("GET", "/portal/static/portal.css"),
        ("POST", "/portal/login"),  # a refused form
        ("GET", "/api/v1/organisations"),  # a 401
        ("GET", "/api/v1/openapi.json"),
        ("POST", "/webhooks/factories/00000000-0000-7000-8000-000000000000/progress"),
        ("GET", "/metrics"),
        ("GET", "/"),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.open(path, method=method)

    for name, value in COMMON.items():
        assert response.headers[name] == value
    directives = policy(response)
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_pages_allow_scripts_and_styles_only_from_the_server(client):
    directives = policy(client.get("/portal/login"))
    assert directives["script-src"] == "script-src 'self'"
    assert directives["style-src"] == "style-src 'self'"
    assert directives["default-src"] == "default-src 'self'"
    assert policy(client.get("/api/v1/openapi.json"))["default-src"] == "default-src 'none'"


def test_portal_templates_hold_no_inline_script_or_style(app):
    loader = app.jinja_env.loader
    names = [n for n in app.jinja_env.list_templates() if n.startswith("portal/")]
    assert names
    for name in names:
        source = loader.get_source(app.jinja_env, name)[0]
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), name
        assert "<style" not in source and " style=" not in source, name
        assert not re.search(r"\son[a-z]+=", source), name  # onclick= and the like


def test_the_docs_page_allows_exactly_its_own_inline_script(client):
    response = client.get("/api/v1/docs")
    inline = re.findall(rb"<script>(.*?)</script>", response.get_data(), re.S)
    digest = base64.b64encode(hashlib.sha256(inline[0]).digest()).decode()

    assert len(inline) == 1
    assert policy(response)["script-src"] == f"script-src 'self' 'sha256-{digest}'"
    assert policy(response)["frame-ancestors"] == "frame-ancestors 'none'"


# The session cookie


@pytest.fixture
def http_app(config, connection):
    """An app without an https PUBLIC_URL, its sessions in this test's transaction."""

    def make(**overrides):
        app = create_app(config.with_overrides(public_url=None, **overrides))
        app.extensions["db"].sessionmaker.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        return app

    return make


@pytest.fixture
def member(session):
    chain, _ = create_chain(session, name="Acme Home")
    org, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="Pudong Store")
    add_member(session, chain_id=chain.id, organisation_id=org.id, name="Li Na", role="admin",
               email="li.na@pudong.example", password=PASSWORD)  # fmt: skip
    session.commit()


def session_cookie(client, **request) -> str:
    token = _csrf(client.get("/portal/login", **request))
    data = {"login": "li.na@pudong.example", "password": PASSWORD, "csrf_token": token}
    response = client.post("/portal/login", data=data, **request)
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_secure_whenever_the_request_is_https(http_app, member):
    client = http_app().test_client()
    assert "Secure" not in session_cookie(client)  # plain http, e.g. a laptop's make run
    assert "; Secure" in session_cookie(client, base_url="https://chain.example")
    cookie = session_cookie(client)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forwarded_proto_is_believed_only_behind_a_trusted_proxy(http_app, member):
    forwarded = {"headers": {"X-Forwarded-Proto": "https"}}
    assert "Secure" not in session_cookie(http_app().test_client(), **forwarded)
    trusting = http_app(trust_proxy=1).test_client()
    assert "; Secure" in session_cookie(trusting, **forwarded)
