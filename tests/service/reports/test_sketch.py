"""Quantiles read from a histogram are within 1 % of the exact nearest-rank quantile, and
histograms add up."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from service.reports.sketch import ACCURACY, histogram, quantile

durations = st.lists(st.floats(min_value=1, max_value=10 * 365 * 86400), min_size=1, max_size=200)


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@settings(deadline=None)
@given(durations, st.sampled_from([0.5, 0.9, 1.0]))
def test_a_quantile_is_within_the_accuracy_of_the_exact_one(values, q):
    estimate = quantile(histogram(values), q)
    exact = _exact(values, q)
    assert abs(estimate - exact) <= ACCURACY * exact * 1.000001


@settings(deadline=None)
@given(durations, durations)
def test_histograms_add_up(first, second):
    assert histogram(first) + histogram(second) == histogram(first + second)


def test_worked_out_by_hand():
    hours = [3600 * h for h in (1, 2, 3, 10)]
    assert abs(quantile(histogram(hours), 0.5) - 7200) <= 72  # the 2nd of 4
    assert abs(quantile(histogram(hours), 0.9) - 36000) <= 360  # the 4th
    assert quantile(histogram([]), 0.5) is None
    assert quantile(histogram([0, 0.5]), 0.5) == 0  # under a second
