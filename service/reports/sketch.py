"""Durations kept as a histogram of relative accuracy (the idea of DDSketch): a duration of
`s` seconds falls in bucket ceil(log_γ s) + 1, and every bucket is reported as the value
within `ACCURACY` of each duration in it. Histograms add up bucket by bucket, so a day's
figures roll up into a year's without keeping each duration, and a quantile read from the sum
is within 1 % of the exact one (nearest rank), whatever the number of durations."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

ACCURACY = 0.01
GAMMA = (1 + ACCURACY) / (1 - ACCURACY)
_LOG_GAMMA = math.log(GAMMA)


def bucket(seconds: float) -> int:
    """The bucket of a duration: 0 for less than a second."""
    if seconds < 1:
        return 0
    return math.ceil(math.log(seconds) / _LOG_GAMMA - 1e-9) + 1


def value(index: int) -> float:
    """What a bucket stands for: within `ACCURACY` of every duration in it."""
    if index == 0:
        return 0.0
    return 2 * GAMMA ** (index - 1) / (GAMMA + 1)


def histogram(durations: Iterable[float]) -> Counter[int]:
    return Counter(bucket(seconds) for seconds in durations)


def quantile(counts: Mapping[int, int], q: float) -> float | None:
    """The duration at rank ceil(q·n) of the n counted (the nearest rank: the median of 4 is
    the 2nd), to within `ACCURACY`; None when nothing was counted."""
    total = sum(counts.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total - 1e-9))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return value(index)
    raise AssertionError("unreachable: the ranks add up to the total")
