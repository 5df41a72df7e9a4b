"""The portal's languages: Simplified Chinese and English. The signed-in member's own choice
first, then what the browser asks for, then the chain's language; with nobody signed in, the
browser's, else Simplified Chinese (a browser that names only other languages gets English,
which more of its readers will read)."""

from __future__ import annotations

from pathlib import Path

from flask import g, has_request_context, request
from flask_babel import Babel

from blueprints import db
from service.chain.chains import get_chain

LANGUAGES = ("zh_CN", "en")
# The chain's and the member's settings are BCP 47 tags; Babel's locales are these.
LOCALES = {"zh-CN": "zh_CN", "en": "en"}
DEFAULT = "zh_CN"
# Babel names zh_CN by its CLDR id, zh_Hans_CN, and so does the catalog's directory.
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT
    member = g.get("member")
    if member is not None and member.language in LOCALES:
        return LOCALES[member.language]
    asked = request.accept_languages.best_match(LANGUAGES)
    if asked:
        return asked
    if member is not None:
        return LOCALES.get(get_chain(db(), member.chain_id).language, DEFAULT)
    return "en" if request.accept_languages else DEFAULT


def init_languages(app) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
