"""The portal's delivery report: a dealer's people see their dealer's orders only, the brand the
chain's; each factory's stages drawn as bars and listed in a table; a period that cannot be
is refused under its field."""

from __future__ import annotations

import re

from tests.blueprints.dealer_portal.test_pages import ADMIN, BRAND, RIVAL, SPECIALIST, _as, world

__all__ = ["world"]  # the fixture


def _sections(page: str) -> dict[str, str]:
    parts = page.split('<section class="report-factory"')[1:]
    return {re.search(r"<h2[^>]*>([^<]+)</h2>", part).group(1): part for part in parts}


def _stages(section: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>', section)
    return {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}


def test_a_dealer_sees_how_the_factories_delivered_its_orders(client, world):
    response = _as(client, ADMIN).get("/portal/reports")
    assert response.status_code == 200
    sections = _sections(response.text)
    assert set(sections) == {"Foshan Works", "Dongguan Textiles"}
    foshan = sections["Foshan Works"]
    assert _stages(foshan) == {
        "Order received → Design done": ["1", "1 day", "1 day", "1 day"],
        "Design done → In production": ["1", "2 days", "2 days", "2 days"],
    }
    assert foshan.count('<rect class="median"') == 2 and foshan.count('class="p90"') == 2
    assert "<dt>Late reports</dt>\n    <dd>1</dd>" in foshan  # the drawings' report came late
    assert _stages(sections["Dongguan Textiles"]) == {
        "Order received → Shipped": ["1", "4 days", "4 days", "4 days"]
    }
    # A specialist of the dealer sees the same: the dealer's figures, not only theirs.
    assert set(_sections(_as(client, SPECIALIST).get("/portal/reports").text)) == set(sections)


def test_another_dealer_sees_none_of_it_and_the_brand_all(client, world):
    rival = _as(client, RIVAL).get("/portal/reports").text
    assert _sections(rival) == {} and "Nothing happened in this period." in rival
    assert "Foshan Works</h2>" not in rival
    client.get("/portal/logout")
    brand = _as(client, BRAND).get("/portal/reports").text
    assert set(_sections(brand)) == {"Foshan Works", "Dongguan Textiles"}


def test_one_factory_and_a_period_of_days(client, world):
    foshan = world.factories["foshan"].id
    page = _as(client, ADMIN).get(f"/portal/reports?factory={foshan}").text
    assert set(_sections(page)) == {"Foshan Works"}
    old = _as(client, ADMIN).get("/portal/reports?start=2020-01-01&end=2020-01-31").text
    assert _sections(old) == {} and "Nothing happened in this period." in old


def test_a_period_that_cannot_be_is_refused_under_its_field(client, world):
    backwards = _as(client, ADMIN).get("/portal/reports?start=2027-04-01&end=2027-03-01")
    assert backwards.status_code == 422
    assert '<span class="field-error">After the last day.</span>' in backwards.text
    garbage = _as(client, ADMIN).get("/portal/reports?start=soon&factory=nonsense")
    assert garbage.status_code == 422
    assert garbage.text.count('class="field-error"') == 2


def test_in_chinese(client, world):
    client.get("/portal/logout")
    _as(client, ADMIN)
    page = client.get("/portal/reports", headers={"Accept-Language": "zh-CN"}).text
    assert "工厂交付情况" in page and "已接单 → 设计完成" in page
