"""An order is as far as its least advanced work item; `completed` only when all are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.progress.milestones import FIRST, MILESTONES, RANK, order_milestone

milestone_lists = st.lists(st.sampled_from(MILESTONES), min_size=1, max_size=20)


def test_milestones_are_in_the_designed_order():
    assert MILESTONES == (
        "received",
        "designed",
        "in_production",
        "quality_checked",
        "shipped",
        "delivered",
        "installed",
        "completed",
    )
    assert [RANK[milestone] for milestone in MILESTONES] == list(range(len(MILESTONES)))


@given(milestone_lists)
def test_order_is_at_its_least_advanced_item(items):
    derived = order_milestone(items)

    assert derived in items
    assert all(RANK[derived] <= RANK[item] for item in items)


@given(milestone_lists)
def test_order_is_completed_exactly_when_every_item_is(items):
    assert (order_milestone(items) == "completed") == all(item == "completed" for item in items)


@given(milestone_lists, st.data())
def test_moving_one_item_forward_never_moves_the_order_back(items, data):
    index = data.draw(st.integers(0, len(items) - 1))
    forward = data.draw(st.sampled_from(MILESTONES[RANK[items[index]] :]))
    moved = [*items[:index], forward, *items[index + 1 :]]

    assert RANK[order_milestone(moved)] >= RANK[order_milestone(items)]


def test_order_without_items_is_received():
    assert order_milestone([]) == FIRST == "received"
