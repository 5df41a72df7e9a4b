import re
from datetime import UTC, datetime

import pytest

from service.chain.chains import create_chain
from service.chain.directory_groups import ensure_path
from service.chain.invitations import create_invitation
from service.chain.members import add_member
from service.chain.models import Member, Organisation
from service.chain.organisations import add_organisation
from service.chain.visibility import add_rule

PASSWORD = "correct horse"


def _csrf(response) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', response.text).group(1)


@pytest.fixture
def chain(session):
    chain, brand = create_chain(session, name="Acme Home")
    east, _ = ensure_path(session, chain_id=chain.id, path="Dealers/East")
    bases, _ = ensure_path(session, chain_id=chain.id, path="Production bases")
    pudong, _ = add_organisation(
        session, chain_id=chain.id, kind="dealer", name="Pudong Store", group_ids=[east.id]
    )
    tianhe, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="Tianhe Store")
    foshan, _ = add_organisation(
        session, chain_id=chain.id, kind="factory", name="Foshan Works", group_ids=[bases.id]
    )
    add_rule(session, chain_id=chain.id, viewer_group_id=east.id, visible_group_id=bases.id)
    people = {
        "me": (pudong, "Li Na", "13812345601", "li.na@pudong.example"),
        "colleague": (pudong, "Wang Fang", "13812345602", None),
        "brand": (brand, "Ma Lin", "13312345651", None),
        "rival": (tianhe, "Huang Wei", "13712345621", None),
        "factory": (foshan, "Guo Hua", "13612345631", None),
    }
    members = {
        key: add_member(
            session,
            chain_id=chain.id,
            organisation_id=org.id,
            name=name,
            role="admin",
            mobile=mobile,
            email=email,
            password=PASSWORD if email else None,
        )
        for key, (org, name, mobile, email) in people.items()
    }
    session.commit()
    return chain, members


def _field_errors(response, name: str) -> list[str]:
    """The errors shown under the form's field `name` (inside its label)."""
    label = re.search(
        rf'<label>(?:(?!</label>).)*name="{name}"(?:(?!</label>).)*</label>', response.text, re.S
    )
    return re.findall(r'<span class="field-error">([^<]*)</span>', label.group(0))


def _log_in(client, email="li.na@pudong.example", password=PASSWORD, next_url=None):
    form = client.get("/portal/login")
    url = "/portal/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"login": email, "password": password, "csrf_token": _csrf(form)})


def test_pages_need_a_login(client, chain):
    response = client.get("/portal/directory")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/portal/login?next=/portal/directory")


def test_login_with_a_wrong_password_is_refused(client, chain):
    response = _log_in(client, password="not it at all")
    assert response.status_code == 401
    assert "Wrong e-mail, mobile or password." in response.text
    assert client.get("/portal/").status_code == 302


def test_login_without_the_csrf_token_is_refused(client, chain):
    response = client.post(
        "/portal/login", data={"login": "li.na@pudong.example", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert "This form has expired" in response.text
    assert client.get("/portal/").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_off_the_portal(client, chain):
    assert _log_in(client, next_url="/portal/directory").headers["Location"] == "/portal/directory"
    client.post("/portal/logout", data={"csrf_token": _csrf(client.get("/portal/login"))})
    assert _log_in(client, next_url="https://evil.example/").headers["Location"] == "/portal/"


def test_directory_shows_what_the_member_may_see_and_masks_other_mobiles(client, chain):
    _log_in(client)
    page = client.get("/portal/directory").text
    assert "Wang Fang" in page and "+8613812345602" in page  # own organisation: whole
    assert "Ma Lin" in page and "133****5651" in page and "+8613312345651" not in page
    assert "Guo Hua" in page and "136****5631" in page  # granted by the rule
    assert "Huang Wei" not in page and "Tianhe" not in page  # another dealer: never


def test_logout_ends_the_session(client, chain):
    _log_in(client)
    client.post("/portal/logout", data={"csrf_token": _csrf(client.get("/portal/"))})
    assert client.get("/portal/").status_code == 302


def test_a_removed_member_is_logged_out(client, chain, session):
    _, members = chain
    _log_in(client)
    from service.chain.members import remove_member

    remove_member(session, chain_id=members["me"].chain_id, member_id=members["me"].id)
    session.commit()
    assert client.get("/portal/").status_code == 302


def test_joining_by_invitation_creates_the_organisation_and_logs_its_admin_in(
    client, chain, session
):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="factory")
    session.commit()
    form = client.get(f"/portal/join/{code}")
    assert form.status_code == 200 and "Join the chain as a factory" in form.text
    response = client.post(
        f"/portal/join/{code}",
        data={
            "organisation_name": "Dongguan Frames",
            "admin_name": "Xu Gang",
            "admin_email": "xu.gang@dongguan.example",
            "password": "long enough",
            "csrf_token": _csrf(form),
        },
    )
    assert response.status_code == 200
    assert re.search(r"whsec_[A-Za-z0-9+/=]+", response.text)
    organisation = session.query(Organisation).filter_by(name="Dongguan Frames").one()
    assert organisation.kind == "factory"
    admin = session.query(Member).filter_by(email="xu.gang@dongguan.example").one()
    assert admin.role == "admin" and admin.organisation_id == organisation.id
    assert "Dongguan Frames" in client.get("/portal/").text
    again = client.get(f"/portal/join/{code}")
    assert again.status_code == 410 and "accepted" in again.text


def test_a_join_that_fails_keeps_the_form_and_uses_nothing_up(client, chain, session):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    form = client.get(f"/portal/join/{code}")
    response = client.post(
        f"/portal/join/{code}",
        data={
            "organisation_name": "Xihu Store",
            "admin_name": "Chen Jing",
            "admin_email": "li.na@pudong.example",  # already a member's login
            "password": "long enough",
            "csrf_token": _csrf(form),
        },
    )
    assert response.status_code == 422
    assert _field_errors(response, "admin_email") == [
        "Another member of this chain already uses this e-mail address."
    ]
    assert 'role="alert"' not in response.text  # said under the field, not above the form
    assert 'value="Xihu Store"' in response.text
    assert session.query(Organisation).filter_by(name="Xihu Store").count() == 0
    assert client.get(f"/portal/join/{code}").status_code == 200  # still pending


def test_a_join_names_the_organisation_and_its_admin_as_the_api_would(client, chain, session):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    data = {
        "organisation_name": "\u200b\u2066",  # nothing visible
        "admin_name": "Chen  Jing",
        "admin_email": "chen.jing@xihu.example",
        "password": "long enough",
        "csrf_token": _csrf(client.get(f"/portal/join/{code}")),
    }
    refused = client.post(f"/portal/join/{code}", data=data)
    assert refused.status_code == 422 and "Must contain a visible character." in refused.text
    data["organisation_name"] = "Xihu\u200b  Store"
    assert client.post(f"/portal/join/{code}", data=data).status_code == 200
    organisation = session.query(Organisation).filter_by(name="Xihu Store").one()
    assert session.query(Member).filter_by(organisation_id=organisation.id).one().name == (
        "Chen Jing"
    )


def test_a_join_refused_for_its_mobile_says_so_under_the_field_in_chinese(client, chain, session):
    chain_row, _ = chain
    _, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    session.commit()
    chinese = {"Accept-Language": "zh-CN"}
    data = {
        "organisation_name": "西湖店",
        "admin_name": "陈静",
        "admin_email": "chen.jing@xihu.example",
        "admin_mobile": "12345",
        "password": "long enough",
        "csrf_token": _csrf(client.get(f"/portal/join/{code}", headers=chinese)),
    }
    response = client.post(f"/portal/join/{code}", data=data, headers=chinese)
    assert response.status_code == 422
    assert _field_errors(response, "admin_mobile") == ["不是有效的电话号码。"]
    # Marked as the one to correct, for the eye and for a screen reader.
    assert re.findall(r'<input aria-invalid="true"[^>]*name="(\w+)"', response.text) == [
        "admin_mobile"
    ]
    assert "mobile:" not in response.text
    assert session.query(Organisation).filter_by(name="西湖店").count() == 0


def test_a_used_invitation_says_so_in_chinese(client, chain, session):
    chain_row, _ = chain
    invitation, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    invitation.accepted_at = invitation.created_at
    session.commit()
    response = client.get(f"/portal/join/{code}", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 410 and "此邀请已被使用。" in response.text
    unknown = client.get("/portal/join/not-a-code", headers={"Accept-Language": "zh-CN"})
    assert unknown.status_code == 404 and "没有这个邀请。" in unknown.text


def test_the_join_page_says_when_the_invitation_expires_in_the_chains_time(client, chain, session):
    chain_row, _ = chain
    invitation, code = create_invitation(session, chain_id=chain_row.id, kind="dealer")
    invitation.expires_at = datetime(2030, 1, 1, 0, 30, tzinfo=UTC)
    session.commit()
    page = client.get(f"/portal/join/{code}", headers={"Accept-Language": "zh-CN"})
    assert "此邀请将于 2030-01-01 08:30 (Asia/Shanghai) 过期。" in page.text


def test_an_unknown_invitation_code_is_a_clear_404(client, chain):
    response = client.get("/portal/join/not-a-code")
    assert response.status_code == 404
    assert "No such invitation." in response.text
