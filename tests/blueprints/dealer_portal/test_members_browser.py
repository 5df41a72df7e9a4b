"""The members' pages in a real browser: sign in by mobile, the Team page, a set-password link
opened on a phone; screenshots of each page in both languages (PORTAL_SHOTS=dir keeps them)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.organisations import add_organisation

PASSWORD = "correct horse"
PHONE = {"width": 390, "height": 844}


def _seed(session):
    chain, _ = create_chain(session, name="Acme Home")
    pudong, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="浦东门店")
    add_member(session, chain_id=chain.id, organisation_id=pudong.id, name="李娜", role="admin",
               mobile="13812345601", email="li.na@pudong.example", password=PASSWORD)  # fmt: skip
    add_member(session, chain_id=chain.id, organisation_id=pudong.id, name="王芳",
               role="service_specialist", mobile="13812345602")  # fmt: skip
    session.commit()


def _shoot(page, name: str) -> None:
    shots = os.environ.get("PORTAL_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/{name}.png", full_page=True)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_an_admin_signs_in_by_mobile_adds_a_colleague_whose_link_works_on_a_phone(
    page, browser, live_server, committed
):
    _seed(committed)
    page.goto(f"{live_server}/portal/login")
    page.get_by_label("邮箱或手机号").fill("+86 138-1234-5601")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header")).to_contain_text("李娜 · 浦东门店")

    page.get_by_role("link", name="团队").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("团队")
    page.get_by_label("姓名").fill("赵磊")
    page.get_by_label("角色").select_option("designer")
    page.get_by_label("手机").fill("139 0000 1111")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已添加 赵磊。")
    page.get_by_role("button", name="为 赵磊 生成设置密码链接").click()
    url = page.locator("code.secret").inner_text()
    _shoot(page, "team-link-zh-CN-1280")
    assert "/portal/password/" in url

    phone = browser.new_context(locale="zh-CN", viewport=PHONE)
    newcomer = phone.new_page()
    newcomer.goto(live_server + url[url.index("/portal/") :])
    newcomer.get_by_label("新密码").fill("a new secret")
    newcomer.get_by_label("再次输入密码").fill("a new secret")
    assert _fits(newcomer)
    _shoot(newcomer, "password-zh-CN-390")
    newcomer.get_by_role("button", name="设置密码并登录").click()
    expect(newcomer.locator("header")).to_contain_text("赵磊 · 浦东门店")
    newcomer.goto(live_server + url[url.index("/portal/") :])
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("此链接无法使用")
    phone.close()


def test_the_members_pages_fit_a_phone_in_both_languages(browser, live_server, committed):
    _seed(committed)
    for locale, login, password, button in (
        ("zh-CN", "邮箱或手机号", "密码", "登录"),
        ("en-US", "E-mail or mobile", "Password", "Sign in"),
    ):
        for size in (PHONE, {"width": 1280, "height": 800}):
            context = browser.new_context(locale=locale, viewport=size)
            page = context.new_page()
            tag = f"{locale}-{size['width']}"
            page.goto(f"{live_server}/portal/login")
            _shoot(page, f"login-{tag}")
            assert _fits(page)
            page.goto(f"{live_server}/portal/forgot-password")
            _shoot(page, f"forgot-{tag}")
            assert _fits(page)
            page.goto(f"{live_server}/portal/login")
            page.get_by_label(login).fill("li.na@pudong.example")
            page.get_by_label(password).fill(PASSWORD)
            page.get_by_role("button", name=button).click()
            page.wait_for_url(f"{live_server}/portal/")
            for path in ("team", "settings"):
                page.goto(f"{live_server}/portal/{path}")
                _shoot(page, f"{path}-{tag}")
                assert _fits(page), f"{path} {tag}"
            page.goto(f"{live_server}/portal/team")
            page.locator("a[href$='/remove']").first.click()
            _shoot(page, f"remove-{tag}")
            assert _fits(page)
            context.close()
