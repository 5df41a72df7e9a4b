"""POST /work-items/{id}/progress refuses implausible dates as the factories' webhook does:
a 422 naming the field, and nothing stored."""

from __future__ import annotations

import pytest

from tests.blueprints.brand_api.chain_world import API, assert_error, body, database_snapshot
from tests.blueprints.factory_webhooks.test_progress_dates import IMPLAUSIBLE, PLAUSIBLE, dated


@pytest.fixture
def work_item(shop) -> str:
    return shop.order(shop.customer()["id"], "SO-1")["items"][0]["id"]


@pytest.mark.parametrize(("dates", "field"), IMPLAUSIBLE.values(), ids=IMPLAUSIBLE)
def test_an_implausible_date_is_a_422_naming_it_and_stores_nothing(
    tenant, work_item, connection, dates, field
):
    before = database_snapshot(connection)
    response = tenant.post(
        f"{API}/work-items/{work_item}/progress", json={"milestone": "shipped", **dated(dates)}
    )
    error = assert_error(response, 422, "invalid")
    assert list(error["details"]["fields"]) == [field]
    assert database_snapshot(connection) == before


def test_every_implausible_date_is_named_at_once(tenant, work_item, connection):
    before = database_snapshot(connection)
    dates = {"occurred_at": 48.0, "eta": 47.0}  # a day too far ahead, and due before it
    response = tenant.post(
        f"{API}/work-items/{work_item}/progress", json={"milestone": "shipped", **dated(dates)}
    )
    assert set(assert_error(response, 422)["details"]["fields"]) == {"occurred_at", "eta"}
    assert database_snapshot(connection) == before


@pytest.mark.parametrize("dates", PLAUSIBLE.values(), ids=PLAUSIBLE)
def test_plausible_dates_are_accepted(tenant, work_item, dates):
    response = tenant.post(
        f"{API}/work-items/{work_item}/progress", json={"milestone": "shipped", **dated(dates)}
    )
    assert body(response)["work_item"]["milestone"] == "shipped"
