"""What the system itself writes into delivery groups and, through them, to chat tools (the
welcome, progress notifications, notices) in the chain's language. The texts are English in
the code and translated in Babel catalogs beside this module (`service/translations`, domain
`system`), compiled by the build like the portal's; the tests fail when one lacks its Chinese.

Pure Babel, no Flask: the domain writes these outside any request (a worker's notice, a
factory's webhook), in the chain's language, never the reader's."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
DIRECTORY = Path(__file__).parent / "translations"
DOMAIN = "system"
# Babel names zh_CN by its CLDR id, as the portal's catalogs do.
_LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is written down, to be said later with `say`."""
    return message


@functools.cache
def _translations(language: str) -> NullTranslations:
    locale = _LOCALES.get(language, _LOCALES[DEFAULT_LANGUAGE])
    return Translations.load(str(DIRECTORY), [locale], domain=DOMAIN)


def say(language: str, message: str, **values) -> str:
    """`message` in `language` (English if it has no translation), its `%(name)s` filled in."""
    text = _translations(language).gettext(message)
    return text % values if values else text


# The milestones as a group reads them (service.progress.milestones has their order).
MILESTONE_NAMES = {
    "received": N_("order received"),
    "designed": N_("design done"),
    "in_production": N_("in production"),
    "quality_checked": N_("quality checked"),
    "shipped": N_("shipped"),
    "delivered": N_("delivered"),
    "installed": N_("installed"),
    "completed": N_("completed"),
}


def milestone_name(language: str, milestone: str) -> str:
    return say(language, MILESTONE_NAMES[milestone])
