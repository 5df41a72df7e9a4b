"""The portal in a real browser (its language Simplified Chinese), against a live server and
committed data."""

import os

from playwright.sync_api import expect
from sqlalchemy import select

from service.chain.chains import create_chain
from service.chain.directory_groups import ensure_path
from service.chain.invitations import create_invitation
from service.chain.members import add_member
from service.chain.models import Chain
from service.chain.organisations import add_organisation
from service.chain.visibility import add_rule

PASSWORD = "correct horse"


def _seed(session):
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
    for org, name, mobile, email in (
        (pudong, "Li Na", "13812345601", "li.na@pudong.example"),
        (brand, "Ma Lin", "13312345651", None),
        (tianhe, "Huang Wei", "13712345621", None),
        (foshan, "Guo Hua", "13612345631", None),
    ):
        add_member(
            session, chain_id=chain.id, organisation_id=org.id, name=name, role="admin",
            mobile=mobile, email=email, password=PASSWORD if email else None,
        )  # fmt: skip
    _, code = create_invitation(session, chain_id=chain.id, kind="dealer")
    session.commit()
    return code


def test_a_dealer_signs_in_and_sees_only_the_directory_it_may(page, live_server, committed):
    _seed(committed)
    page.goto(f"{live_server}/portal/directory")
    expect(page).to_have_url(f"{live_server}/portal/login?next=/portal/directory")
    page.get_by_label("邮箱").fill("li.na@pudong.example")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{live_server}/portal/directory")
    table = page.locator("ul.directory")
    expect(table).to_contain_text("Li Na")
    expect(table).to_contain_text("Ma Lin")
    expect(table).to_contain_text("133****5651")
    expect(table).to_contain_text("Foshan Works")
    expect(table).not_to_contain_text("Huang Wei")
    expect(table).not_to_contain_text("Tianhe")
    expect(page.get_by_role("link", name="致电 Li Na")).to_have_attribute(
        "href", "tel:+8613812345601"
    )

    # Searched by a number as people type it; a masked number by what it shows, only.
    search = page.get_by_label("姓名、企业、角色或手机号")
    search.fill("+86 138 1234 5601")
    search.press("Enter")
    expect(table.locator("li")).to_have_count(1)
    expect(table).to_contain_text("Li Na")
    search = page.get_by_label("姓名、企业、角色或手机号")
    search.fill("13312345651")
    page.get_by_role("button", name="搜索").click()
    expect(table).to_contain_text("没有与")
    expect(table).not_to_contain_text("Ma Lin")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/portal/directory?q=Foshan")
    expect(table).to_contain_text("Guo Hua")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if os.environ.get("PORTAL_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["PORTAL_SHOTS"], "directory-zh-390.png"))
    page.goto(f"{live_server}/portal/directory")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{live_server}/portal/login")


def test_a_dealer_joins_by_invitation_in_the_browser(page, live_server, committed):
    code = _seed(committed)
    page.goto(f"{live_server}/portal/join/{code}")
    page.get_by_label("企业").fill("Xihu Store")
    page.get_by_label("您的姓名").fill("Chen Jing")
    page.get_by_label("邮箱").fill("chen.jing@xihu.example")
    page.get_by_label("密码").fill("long enough")
    page.get_by_role("button", name="加入").click()

    expect(page.get_by_role("heading")).to_have_text("Xihu Store 已加入上下游")
    page.get_by_role("link", name="继续").click()
    expect(page.locator("header")).to_contain_text("Chen Jing · Xihu Store")


def _policy_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    return violations


def test_an_address_in_two_chains_picks_one_in_the_browser(page, live_server, committed):
    _seed(committed)
    other, _ = create_chain(committed, name="Lumen Living")
    xuhui, _ = add_organisation(committed, chain_id=other.id, kind="dealer", name="Lumen Xuhui")
    add_member(committed, chain_id=other.id, organisation_id=xuhui.id, name="Li Na",
               role="admin", email="li.na@pudong.example", password=PASSWORD)  # fmt: skip
    committed.commit()
    violations = _policy_violations(page)

    page.goto(f"{live_server}/portal/login")
    page.get_by_label("邮箱").fill("li.na@pudong.example")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading")).to_have_text("进入哪个上下游？")
    page.get_by_role("button", name="Lumen Living").click()

    expect(page.locator("header")).to_contain_text("Li Na · Lumen Xuhui")
    assert violations == []


def test_the_api_docs_page_works_under_its_policy(page, live_server):
    violations = _policy_violations(page)
    page.goto(f"{live_server}/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chain Collab brand API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []


def test_a_signed_in_page_fits_a_phone_screen(browser, live_server, committed):
    _seed(committed)
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/portal/login")
    page.get_by_label("E-mail").fill("li.na@pudong.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header")).to_contain_text("Li Na · Pudong Store")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_a_factory_joining_on_a_phone_reads_its_webhook_address_without_scrolling(
    browser, live_server, committed
):
    _seed(committed)
    chain_id = committed.scalar(select(Chain.id).where(Chain.name == "Acme Home"))
    _, code = create_invitation(committed, chain_id=chain_id, kind="factory")
    committed.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/portal/join/{code}")
    page.get_by_label("企业").fill("Dongguan Frames")
    page.get_by_label("您的姓名").fill("Xu Gang")
    page.get_by_label("邮箱").fill("xu.gang@dongguan.example")
    page.get_by_label("密码").fill("long enough")
    page.get_by_role("button", name="加入").click()

    # The address is one long word: it wraps instead of widening the page.
    expect(page.locator("code").first).to_contain_text("/webhooks/factories/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
