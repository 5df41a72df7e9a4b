"""The database's nearest-rank quantiles of histograms are sketch.quantile's, key by key, on
random histograms; and on PostgreSQL the service report's exact quantiles are the nearest
rank of the seconds themselves."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import Integer, String, literal, select, union_all

from service.reports.quantiles import QUANTILES, nearest_ranks, summaries
from service.reports.sketch import bucket, quantile


def _histogram(rows: list[tuple[str, str, int, int]]):
    return union_all(
        *(
            select(literal(key, String).label("key"), literal(clock, String).label("clock"),
                   literal(index, Integer).label("bucket"), literal(n, Integer).label("n"))
            for key, clock, index, n in rows
        )
    ).subquery("histogram")  # fmt: skip


@pytest.mark.parametrize("seed", range(12))
def test_the_databases_quantiles_are_the_sketchs(session, seed):
    rng = random.Random(seed)
    expected, rows = {}, []
    for key in ("a", "b", "c")[: rng.randint(1, 3)]:
        for clock in ("wall", "business"):
            counts = Counter(bucket(rng.lognormvariate(7, 1.5)) for _ in range(rng.randint(1, 40)))
            rows += [(key, clock, index, n) for index, n in counts.items()]
            expected[key, clock] = [quantile(counts, float(q)) for q in QUANTILES]
    found = summaries(session.execute(nearest_ranks(_histogram(rows), ["key", "clock"])), 2)
    for (key, clock), values in expected.items():
        assert [found[key,].seconds(clock, q) for q in QUANTILES] == [round(v) for v in values]
