"""The portal's languages: Simplified Chinese and English, as the browser prefers."""

from __future__ import annotations

from pathlib import Path

from flask import request
from flask_babel import Babel

LANGUAGES = ("zh_CN", "en")
# Babel names zh_CN by its CLDR id, zh_Hans_CN, and so does the catalog's directory.
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    # English when the browser names neither: the strings are written in it.
    return request.accept_languages.best_match(LANGUAGES, default="en")


def init_languages(app) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
