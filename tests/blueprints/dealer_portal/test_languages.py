"""The portal speaks Simplified Chinese and English: every string has its Chinese, and the
compiled catalog is the one in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import blueprints.dealer_portal
from tests.blueprints.dealer_portal.test_portal import PASSWORD, _csrf, chain  # noqa: F401

PORTAL = Path(blueprints.dealer_portal.__file__).parent
ZH = PORTAL / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2)}


def _key(message_id):
    return tuple(message_id) if isinstance(message_id, list | tuple) else message_id


def test_every_string_of_the_portal_has_its_chinese():
    with open(ZH / "messages.po", "rb") as f:
        catalog = {_key(m.id): m.string for m in read_po(f) if m.id}
    found = {
        _key(message[2]) for message in extract_from_dir(str(PORTAL), METHODS, keywords=KEYWORDS)
    }
    assert found
    untranslated = [m for m in found if not catalog.get(m) or not all(_strings(catalog[m]))]
    assert untranslated == [], "add them to the catalog: see README, Languages"


def test_the_catalogs_hold_exactly_the_portals_strings():
    """Stale catalogs fail here: a string of the code missing from the template or a language,
    or one the code no longer has (README, The portal's languages, says how to update them)."""
    found = {
        _key(message[2]) for message in extract_from_dir(str(PORTAL), METHODS, keywords=KEYWORDS)
    }
    catalogs = [PORTAL / "translations" / "messages.pot"]
    catalogs += sorted((PORTAL / "translations").glob("*/LC_MESSAGES/messages.po"))
    for path in catalogs:
        with open(path, "rb") as f:
            held = {_key(m.id) for m in read_po(f) if m.id}
        assert (sorted(found - held, key=str), sorted(held - found, key=str)) == ([], []), path


def _strings(string):
    return string if isinstance(string, list | tuple) else [string]


def test_the_compiled_catalog_matches_its_source():
    with open(ZH / "messages.po", "rb") as po, open(ZH / "messages.mo", "rb") as mo:
        source = {_key(m.id): _key(m.string) for m in read_po(po) if m.id and m.string}
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source


def test_pages_speak_the_browsers_language(client, chain):  # noqa: F811
    chinese = client.get("/portal/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    english = client.get("/portal/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    neither = client.get("/portal/login", headers={"Accept-Language": "fr"})

    assert "<h1>登录</h1>" in chinese.text and 'lang="zh-Hans-CN"' in chinese.text
    assert "<h1>Sign in</h1>" in english.text and 'lang="en"' in english.text
    assert "<h1>Sign in</h1>" in neither.text


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-CN", "登录失败次数过多。请 1 分钟后再试。"), ("en", "Try again in 1 minute.")],
)
def test_the_rate_limit_page_speaks_the_browsers_language(client, chain, language, text):  # noqa: F811
    headers = {"Accept-Language": language}
    for _ in range(6):
        token = _csrf(client.get("/portal/login", headers=headers))
        data = {"login": "li.na@pudong.example", "password": "wrong!", "csrf_token": token}
        response = client.post("/portal/login", data=data, headers=headers)
    assert response.status_code == 429
    assert text in response.text
