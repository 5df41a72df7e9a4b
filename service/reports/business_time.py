"""Time within a chain's business hours: the clock that reply times are also measured by, so
that a customer who writes at 20:55 and is answered at 09:02 the next morning waited 7 minutes
of business time (09:00–21:00), not 12 hours.

Business hours are local ("HH:MM" to "HH:MM", every day, in the chain's time zone); each day's
opening and closing are built on its date, so a day with a clock change is as long as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
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
        float, so that spans add up); none when `end` is not after `start`."""
        # In UTC: between two datetimes of one tzinfo Python subtracts wall-clock times, which
        # a clock change makes wrong.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        if end <= start:
            return total
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            opens = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
            closes = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
            overlap = min(end, closes) - max(start, opens)
            if overlap > timedelta(0):
                total += overlap
            day += timedelta(days=1)
        return total

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        return self.opens <= local < self.closes
