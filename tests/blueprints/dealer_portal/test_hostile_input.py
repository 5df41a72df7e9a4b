"""The portal under hostile input: a clear page, never a 500, nothing stored."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from service.chain.invitations import create_invitation
from service.chain.models import Member, Organisation
from tests.blueprints.dealer_portal.test_portal import PASSWORD, _csrf, chain  # noqa: F401


@pytest.mark.parametrize(
    "target",
    [
        "/portal/\r\nSet-Cookie: stolen=1",
        "/portal/directory\nLocation: https://evil.example/",
        "/portal/%0d%0aSet-Cookie:x=1",  # still encoded once the query is decoded: harmless
        "https://evil.example/portal/",
        "//evil.example/portal/",
        "/\\evil.example",
        "\\\\evil.example\\portal\\",
        "/portal/\\..\\evil",
        "javascript:alert(1)",
        "/portal/\x00",
        "/api/v1/organisations",
        "/portal/" + "a" * 5000,
    ],
)
def test_a_hostile_next_is_ignored(client, chain, target):  # noqa: F811
    token = _csrf(client.get("/portal/login?next=" + quote(target, safe="")))
    data = {"login": "li.na@pudong.example", "password": PASSWORD, "csrf_token": token}

    response = client.post("/portal/login?next=" + quote(target, safe=""), data=data)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/portal/", target) and location.startswith("/portal/")
    assert "\r" not in location and "\n" not in location and "\\" not in location
    assert "stolen" not in " ".join(response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("login", "li.na@pudong.example\x00", "not text"),
        ("password", PASSWORD + "\x00", "not text"),
        ("login", "a" * 300 + "@pudong.example", "longer than 254"),
        ("password", "x" * 100_000, "longer than 200"),
    ],
)
def test_a_login_form_with_hostile_fields_is_refused_on_the_page(
    client,
    chain,  # noqa: F811
    field,
    value,
    message,
):
    data = {"login": "li.na@pudong.example", "password": PASSWORD, field: value}
    data["csrf_token"] = _csrf(client.get("/portal/login"))

    response = client.post("/portal/login", data=data)

    assert response.status_code == 422
    assert message in response.text
    assert client.get("/portal/").status_code == 302


JOIN = {
    "organisation_name": "Xihu Store",
    "admin_name": "Chen Jing",
    "admin_email": "chen.jing@xihu.example",
    "password": "long enough",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisation_name", "Xihu\x00Store", "not text"),
        ("admin_name", "Chen\x1b[31mJing", "not text"),
        ("admin_name", "\ufffd", "not text"),  # what bytes that are not UTF-8 decode to
        ("organisation_name", "X" * 201, "longer than 200"),
        ("admin_mobile", "1" * 33, "longer than 32"),
        ("password", "p" * 201, "between 8 and 200"),
    ],
)
def test_a_join_form_with_hostile_fields_is_refused_and_stores_nothing(
    client,
    chain,  # noqa: F811
    session,
    field,
    value,
    message,
):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    data = {**JOIN, field: value, "csrf_token": _csrf(client.get(f"/portal/join/{code}"))}

    response = client.post(f"/portal/join/{code}", data=data)

    assert response.status_code == 422
    assert message in response.text
    assert session.query(Organisation).filter_by(chain_id=chain_row.id).count() == 4
    assert session.query(Member).filter_by(email="chen.jing@xihu.example").count() == 0
    assert client.get(f"/portal/join/{code}").status_code == 200  # still unused


def test_bytes_that_are_not_utf8_in_a_join_form_are_refused(client, chain, session):  # noqa: F811
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    fields = {**JOIN, "csrf_token": _csrf(client.get(f"/portal/join/{code}"))}
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value
        for name, value in {k: v.encode() for k, v in fields.items()}.items()
        if name != "admin_name"
    ]
    # A UTF-8-encoded lone surrogate, and a byte that is never UTF-8.
    parts.append(
        b'--B\r\nContent-Disposition: form-data; name="admin_name"\r\n\r\n\xed\xa0\x80\xff'
    )
    body = b"\r\n".join(parts) + b"\r\n--B--\r\n"

    response = client.post(
        f"/portal/join/{code}", data=body, content_type="multipart/form-data; boundary=B"
    )

    assert response.status_code == 422 and "not text" in response.text
    assert session.query(Member).filter_by(email="chen.jing@xihu.example").count() == 0
