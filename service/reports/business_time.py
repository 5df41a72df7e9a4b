"""Time within a chain's business hours: the clock that reply times are also measured by, so
that a customer who writes at 20:55 and is answered at 09:02 the next morning waited 7 minutes
of business time (09:00–21:00), not 12 hours.

Business hours are local ("HH:MM" to "HH:MM", every day, in the chain's time zone); each day's
opening and closing are built on its date, so a day with a clock change is as long as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_OPENS = "09:00"
DEFAULT_CLOSES = "21:00"


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    opens: time
    closes: time  # after `opens`: the hours never run across midnight

    @classmethod
    def of(cls, timezone: str, opens: str = DEFAULT_OPENS, closes: str = DEFAULT_CLOSES):
        return cls(ZoneInfo(timezone), parse_hhmm(opens), parse_hhmm(closes))

    @classmethod
    def of_chain(cls, chain) -> BusinessHours:
        return cls.of(chain.timezone, chain.business_hours_start, chain.business_hours_end)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (aware datetimes), exact (a timedelta, not a
        float, so that spans add up); none when `end` is not after `start`. The whole days
        between the first and the last are read from each year's running totals, so a wait of
        a year costs no more than one of a day."""
        # In UTC: between two datetimes of one tzinfo Python subtracts wall-clock times, which
        # a clock change makes wrong.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        if first == last:
            return self._open(first, start, end)
        whole = self._whole_days(first + timedelta(days=1), last)
        return self._open(first, start, end) + whole + self._open(last, start, end)

    def _open(self, day: date, start: datetime, end: datetime) -> timedelta:
        """How much of `day`'s business hours fall between `start` and `end` (UTC)."""
        opens = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
        return max(timedelta(0), min(end, closes) - max(start, opens))

    def _whole_days(self, since: date, until: date) -> timedelta:
        """The business hours of the days from `since` to before `until`."""
        if since >= until:
            return timedelta(0)
        if since.year == until.year:
            return self._before(until) - self._before(since)
        total = _running_totals(self, since.year)[-1] - self._before(since)
        for year in range(since.year + 1, until.year):
            total += _running_totals(self, year)[-1]
        return total + self._before(until)

    def _before(self, day: date) -> timedelta:
        """The business hours of the days of `day`'s year before it."""
        return _running_totals(self, day.year)[day.timetuple().tm_yday - 1]

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        return self.opens <= local < self.closes


@lru_cache(maxsize=64)
def _running_totals(hours: BusinessHours, year: int) -> list[timedelta]:
    """For each day of the year, the business hours of the days before it that year; then the
    whole year's. Each day's own opening and closing: a day with a clock change in its
    business hours is as long as it is."""
    totals, total, day = [], timedelta(0), date(year, 1, 1)
    while day.year == year:
        totals.append(total)
        opens = datetime.combine(day, hours.opens, tzinfo=hours.zone).astimezone(UTC)
        total += datetime.combine(day, hours.closes, tzinfo=hours.zone).astimezone(UTC) - opens
        day += timedelta(days=1)
    totals.append(total)
    return totals
