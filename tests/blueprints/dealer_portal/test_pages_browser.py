"""Customers and orders in a real browser (Simplified Chinese), against a live server and
committed data: find a customer, open their order, see its timeline."""

from playwright.sync_api import expect

from tests.blueprints.dealer_portal.pages_world import PASSWORD, build_world


def _sign_in(page, live_server, email="li.na@pudong.example"):
    page.goto(f"{live_server}/portal/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_dealer_finds_a_customer_and_reads_an_orders_timeline(page, live_server, committed):
    build_world(committed)
    _sign_in(page, live_server)

    page.get_by_role("navigation").get_by_role("link", name="客户").click()
    page.get_by_label("姓名、手机号或标签").fill("139-1234-5678")
    page.get_by_role("button", name="搜索").click()
    results = page.locator("ul.rows")
    expect(results).to_contain_text("Zhang San")
    expect(results).not_to_contain_text("Chen Jing")

    results.get_by_role("link", name="Zhang San").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zhang San")
    expect(page.get_by_role("link", name="139 1234 5678")).to_have_attribute(
        "href", "tel:+8613912345678"
    )
    page.get_by_role("link", name="SO-1").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("订单 SO-1")
    frame = page.get_by_role("region", name="Sofa frame × 1")
    picture = frame.get_by_role("img", name="Sofa frame 的进度时间线")
    expect(picture).to_be_visible()
    expect(picture.locator(".late-mark")).to_have_count(1)
    expect(picture.locator(".eta line")).to_have_count(1)
    expect(frame.get_by_role("table")).to_contain_text("迟报")
    expect(frame).to_contain_text("已延期")


def test_the_order_page_fits_a_phone_screen(browser, live_server, committed):
    world = build_world(committed)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, live_server)
    for path in (
        "/portal/customers",
        f"/portal/customers/{world.customers['zhang'].id}",
        "/portal/customers/new",
        "/portal/orders",
        f"/portal/orders/{world.orders['SO-1'].id}",
    ):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    box = page.locator("svg.timeline").first.bounding_box()
    assert box["width"] <= 390 and box["height"] > 100
    context.close()
