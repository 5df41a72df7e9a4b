"""Any bytes in the portal's forms and its next parameter: never a 500, nothing stored."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.chain.invitations import create_invitation
from service.chain.models import Organisation
from tests.blueprints.dealer_portal.test_portal import _csrf, chain  # noqa: F401

# Any bytes (not UTF-8, NUL, control characters), any text, and fields far over their limits.
values = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from([b"li.na@pudong.example", b"correct horse", b"", b"\x00", b"\xed\xa0\x80"]),
    st.integers(min_value=250, max_value=70_000).map(lambda n: b"x" * n),
)
nexts = st.one_of(
    values,
    st.sampled_from([b"/portal/\r\nX: y", b"//evil.example", b"/\\evil", b"/portal/directory"]),
)
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def form_body(**fields: bytes) -> str:
    return "&".join(f"{name}={quote_from_bytes(value)}" for name, value in fields.items())


@PROPERTY
@given(email=values, password=values, target=nexts)
def test_any_sign_in_is_answered_without_a_500(client, chain, email, password, target):  # noqa: F811
    token = _csrf(client.get("/portal/login")).encode()
    response = client.post(
        "/portal/login?next=" + quote_from_bytes(target),
        data=form_body(login=email, password=password, csrf_token=token),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code in (302, 401, 422, 429)
    if response.status_code == 302:  # the right password: back into the portal, nowhere else
        location = response.headers["Location"]
        assert location.startswith("/portal/") and not location.startswith("//")
        assert not any(ch in location for ch in "\r\n\\")


@PROPERTY
@given(name=values, admin=values, email=values, mobile=values, password=values)
def test_any_join_is_answered_without_a_500_and_stores_only_a_whole_join(
    client,
    chain,  # noqa: F811
    session,
    name,
    admin,
    email,
    mobile,
    password,
):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    before = session.query(Organisation).count()
    token = _csrf(client.get(f"/portal/join/{code}")).encode()

    response = client.post(
        f"/portal/join/{code}",
        data=form_body(
            organisation_name=name,
            admin_name=admin,
            admin_email=email,
            admin_mobile=mobile,
            password=password,
            csrf_token=token,
        ),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code in (200, 422)
    stored = session.query(Organisation).count() - before
    assert stored == (1 if response.status_code == 200 else 0)
