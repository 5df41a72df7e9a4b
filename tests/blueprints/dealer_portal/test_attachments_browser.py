"""Attachments in a real browser: a photo chosen in the group page's form is sent without
leaving the page and its thumbnail appears; a refused file is answered beside the file field;
the page with photos, and the customer's link with them, fit a phone in both languages."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from service.customers.links import create_link
from tests.attachment_files import photo
from tests.blueprints.dealer_portal.test_groups_browser import PASSWORD, SHOTS, _seed, _sign_in


def _choose(page, name: str, mime: str, data: bytes) -> None:
    page.locator("#compose input[type=file]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )


def test_a_photo_attached_in_the_page_appears_as_its_thumbnail(page, live_server, committed):
    _world, group, _key = _seed(committed)
    _sign_in(page, live_server, f"/portal/groups/{group.id}")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("输入消息").fill("安装完成，请查看")
    _choose(page, "客厅.jpg", "image/jpeg", photo("JPEG", (1600, 1200)))
    page.get_by_role("button", name="发送").click()

    mine = page.locator("#messages .message-mine").last
    expect(mine).to_contain_text("安装完成，请查看")
    thumbnail = mine.locator(".attachment img")
    expect(thumbnail).to_have_attribute("alt", "客厅.jpg")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 320", arg=thumbnail.element_handle()
    )
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#compose input[type=file]")).to_have_value("")

    _choose(page, "假图片.png", "image/png", b"<html>not a photo</html>")
    page.get_by_role("button", name="发送").click()
    expect(page.locator("#compose .field-error")).to_have_text(
        "只能添加图片（JPEG、PNG、WebP）和 PDF 文件。"
    )
    expect(page.locator("#messages .attachment")).to_have_count(1)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_photos_fit_a_phone_in_the_group_and_the_customers_link(
    browser, live_server, committed, locale
):
    world, group, _key = _seed(committed)
    _, token = create_link(committed, chain_id=world.id, customer_id=group.customer_id)
    committed.commit()
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/portal/login?next=/portal/groups/{group.id}")
        page.locator("input[name=login]").fill("li.wei@bund.example")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        _choose(page, "wide-" + "长" * 120 + ".png", "image/png", photo("PNG", (2400, 600)))
        page.locator("#compose button[type=submit]").click()
        expect(page.locator("#messages .attachment img")).to_have_count(1)
        page.locator("#compose input[type=file]").set_input_files(
            {"name": "invoice-" + "x" * 150 + ".pdf", "mimeType": "application/pdf",
             "buffer": b"%PDF-1.4\n%%EOF\n"}
        )  # fmt: skip
        page.locator("#compose button[type=submit]").click()
        expect(page.locator("#messages .attachment-pdf")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"attachments-{locale}-390.png"))

        page.goto(f"{live_server}/c/{token}")
        thumbnail = page.locator(".messages .attachment img")
        expect(thumbnail).to_have_count(1)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if SHOTS:
            page.screenshot(
                path=os.path.join(SHOTS, f"link-attachments-{locale}-390.png"), full_page=True
            )
    finally:
        context.close()
