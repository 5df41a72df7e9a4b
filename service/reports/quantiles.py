"""Quantiles of histograms (service.reports.sketch) computed by the database: for each key, the
count and the bucket at each quantile's nearest rank, so that a report reads a row per key
instead of a row per key and bucket (a year of a thousand owners' reply times is a million
such rows, a few thousand of these).

The rule is sketch.quantile's: the bucket where the running count first reaches ceil(q·n);
as whole numbers, where running · den ≥ num · n for q = num / den."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import Select, case, func, select

from service.reports.sketch import value

MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)
QUANTILES = (MEDIAN, P90)


def nearest_ranks(histogram, keys: list[str]) -> Select:
    """Per key of `histogram` (a subquery of columns `keys`, `bucket` and `n`, one row per key
    and bucket): the key, the count, then the bucket of each of QUANTILES."""
    part = [histogram.c[k] for k in keys]
    ranked = select(
        *part,
        histogram.c.bucket,
        func.sum(histogram.c.n).over(partition_by=part, order_by=histogram.c.bucket).label("seen"),
        func.sum(histogram.c.n).over(partition_by=part).label("total"),
    ).subquery("ranked")
    seen, total = ranked.c.seen, ranked.c.total
    return select(
        *(ranked.c[k] for k in keys),
        func.max(total),
        *(
            func.min(case((seen * q.denominator >= total * q.numerator, ranked.c.bucket)))
            for q in QUANTILES
        ),
    ).group_by(*(ranked.c[k] for k in keys))


@dataclass(frozen=True)
class Summary:
    """Some durations on two clocks: how many, and each quantile on each, in seconds."""

    count: int = 0
    at: dict = field(default_factory=dict)  # {(clock, quantile): seconds}

    def seconds(self, clock: str, q: Fraction) -> int | None:
        return self.at.get((clock, q))


def summaries(rows, keys: int) -> dict[tuple, Summary]:
    """nearest_ranks' rows, whose keys end with the clock, as a Summary per key without it."""
    found: dict[tuple, Summary] = {}
    for row in rows:
        *key, clock = row[:keys]
        count, *buckets = row[keys:]
        summary = found.setdefault(tuple(key), Summary(int(count)))
        summary.at.update(
            {(clock, q): round(value(bucket)) for q, bucket in zip(QUANTILES, buckets, strict=True)
             if bucket is not None}
        )  # fmt: skip
    return found
