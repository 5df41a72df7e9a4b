"""What the system writes into groups is in the chain's language: every text has its Chinese,
the catalogs hold exactly the code's texts, and a chain that speaks English is told in it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import service
from service.chain.models import Language
from service.system_texts import DIRECTORY, LANGUAGES, MILESTONE_NAMES, milestone_name, say

SERVICE = Path(service.__file__).parent
KEYWORDS = {"say": (2,), "N_": None}


def found() -> set[str]:
    return {m[2] for m in extract_from_dir(str(SERVICE), [("**.py", "python")], keywords=KEYWORDS)}


def held(path: Path) -> dict[str, str]:
    with open(path, "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_the_catalogs_hold_exactly_the_codes_texts_each_with_its_chinese():
    texts = found()
    assert len(texts) >= len(MILESTONE_NAMES) + 4
    for path in (DIRECTORY / "system.pot", *sorted(DIRECTORY.glob("*/LC_MESSAGES/system.po"))):
        assert set(held(path)) == texts, path
    chinese = held(DIRECTORY / "zh_Hans_CN" / "LC_MESSAGES" / "system.po")
    assert [text for text in texts if not chinese[text]] == []


def test_the_chains_languages_are_the_ones_the_system_speaks():
    assert set(Language) == set(LANGUAGES)


def test_texts_are_said_in_the_chains_language_with_their_values():
    order = "Order %(reference)s: %(item)s — %(milestone)s."
    values = {"reference": "SO-7", "item": "衣柜门板"}
    chinese = say("zh-CN", order, **values, milestone=milestone_name("zh-CN", "shipped"))
    english = say("en", order, **values, milestone=milestone_name("en", "shipped"))
    assert chinese == "订单 SO-7：衣柜门板 — 已发货。"
    assert english == "Order SO-7: 衣柜门板 — shipped."
    names = [milestone_name("zh-CN", m) for m in MILESTONE_NAMES]
    assert names == [
        "已接单",
        "设计完成",
        "生产中",
        "质检通过",
        "已发货",
        "已送达",
        "已安装",
        "已完成",
    ]
