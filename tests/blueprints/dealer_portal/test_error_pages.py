"""A browser that meets an error sees a page of the portal, in its language: an address that
names nothing, a method the page does not take, a failure of ours; the JSON doors keep their
JSON."""

from __future__ import annotations

import pytest

from service.app import create_app

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def failing_app(config):
    app = create_app(config)

    def fail():
        raise RuntimeError("a bug of ours")

    app.add_url_rule("/portal/test-fails", endpoint="dealer_portal.test_fails", view_func=fail)
    app.add_url_rule("/api/v1/test-fails", endpoint="test_fails_api", view_func=fail)
    yield app
    app.extensions["db"].engine.dispose()


def main(response) -> str:
    return response.text[response.text.index("<main>") :]


def test_an_address_that_names_nothing_is_a_page_in_the_readers_language(client):
    chinese = client.get("/portal/no-such-page", headers=ZH)
    english = client.get("/portal/no-such-page", headers=EN)
    assert chinese.status_code == english.status_code == 404
    assert "<h1>页面不存在</h1>" in main(chinese) and 'lang="zh-Hans-CN"' in chinese.text
    assert "<h1>This page does not exist</h1>" in main(english)
    assert 'href="/portal/portal.css"' in chinese.text or "portal.css" in chinese.text


def test_a_method_the_page_does_not_take_is_a_page_too(client):
    response = client.post("/portal/directory", headers=EN)
    assert response.status_code in (400, 405)  # the CSRF check may answer first
    assert "<main>" in response.text


def test_a_failure_of_ours_is_a_styled_500_and_tells_nothing_of_the_bug(failing_app):
    failing_app.testing = False  # as in production: the error is handled, not raised
    client = failing_app.test_client()
    page = client.get("/portal/test-fails", headers=ZH)
    assert page.status_code == 500
    assert "<h1>我们这边出了点问题</h1>" in main(page)
    assert "a bug of ours" not in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/test-fails")
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "internal_error"
