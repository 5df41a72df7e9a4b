"""The service report: how each dealer and each of its people look after their customers'
groups, over a period of days in the chain's time zone. Counted from the tallies kept as
people write (service.reports.tallies), never from the messages themselves.

Definitions (the API's description repeats them). A group and what is said in it count for
its owner (the dealer's member who answers for it) and the owner's dealer: the owner now for
the groups and their members, the owner of the time for what was written.

- **New groups**: groups made in the period; **groups in total**: made by its end.
- **Groups with messages**: groups in which anyone but the system wrote in the period.
- **New group members**: seats taken in the period (the customer's included); **members in
  total**: the seats now held in the groups made by the period's end.
- **Members who wrote**: the seats (the customer's included) that wrote in the period.
- **Messages**: what people (the customer and members) wrote in the period, and of them
  **from the customer**. The system's messages are not counted.
- The reply figures are over the customer's messages written in the period; which of them
  are replies, first responses and answered the same day: service.reports.replies. Each
  **median** and **p90** is by nearest rank to within 1 % (service.reports.sketch), on the
  wall clock and in the chain's business hours.
- **Unanswered now**: the period's customer messages with no reply yet; the **longest wait**
  the oldest one's so far.

A group whose owner changed during the period counts for each owner, so a dealer's figures
are its owners' added up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Integer,
    Uuid,
    case,
    func,
    literal,
    null,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session

from service.chain.models import Chain, Member, Organisation
from service.db import utcnow
from service.errors import FieldErrors
from service.groups.models import DeliveryGroup
from service.reports.business_time import BusinessHours
from service.reports.models import ReplyWait, SeatDay, WriterDay
from service.reports.periods import Period, period_of, rollup_rows
from service.reports.quantiles import (
    MEDIAN,
    P90,
    QUANTILES,
    Summary,
    nearest_ranks,
    summaries,
)
from service.reports.tallies import CUSTOMER_WRITER

WALL, BUSINESS = "wall", "business"


@dataclass
class ServiceFigures:
    """One owner's figures, or a dealer's or the chain's (their counts added up)."""

    new_groups: int = 0
    groups_total: int = 0
    groups_with_messages: int = 0
    new_members: int = 0
    members_total: int = 0
    members_who_wrote: int = 0
    messages: int = 0
    customer_messages: int = 0
    # Their own, never added up: a dealer's and the chain's are the database's.
    first_responses: Summary = field(default_factory=Summary)
    replies: Summary = field(default_factory=Summary)
    answered_same_day: int = 0
    unanswered_now: int = 0
    oldest_unanswered: datetime | None = None

    def add(self, other: ServiceFigures) -> None:
        for each in fields(self):
            mine, theirs = getattr(self, each.name), getattr(other, each.name)
            if isinstance(mine, Summary):
                continue
            if each.name == "oldest_unanswered":
                self.oldest_unanswered = min(
                    (t for t in (mine, theirs) if t is not None), default=None
                )
            else:
                setattr(self, each.name, mine + theirs)

    @property
    def same_day_rate(self) -> float | None:
        return self.answered_same_day / self.customer_messages if self.customer_messages else None


@dataclass(frozen=True)
class Row:
    dealer_id: uuid.UUID
    dealer_name: str
    member_id: uuid.UUID | None  # None: the dealer's row
    member_name: str | None
    figures: ServiceFigures


@dataclass(frozen=True)
class Week:
    """The first responses to customer messages written in one week (from its Monday)."""

    start: date
    first_responses: Summary


@dataclass(frozen=True)
class ServiceReport:
    period: Period
    hours: BusinessHours
    now: datetime
    total: ServiceFigures
    dealers: list[Row]
    members: list[Row]
    weeks: list[Week]

    def longest_wait(self, figures: ServiceFigures) -> tuple[int, int] | None:
        """The longest wait so far (wall and business seconds), if any is unanswered."""
        if figures.oldest_unanswered is None:
            return None
        since = figures.oldest_unanswered
        wall = max(0, int((self.now - since).total_seconds()))
        return wall, int(self.hours.between(since, self.now).total_seconds())


def service_report(
    session: Session,
    chain_id: uuid.UUID,
    *,
    start: date | None = None,
    end: date | None = None,
    dealer_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> ServiceReport:
    now = now or utcnow()
    dealer_id = _check_filters(session, chain_id, dealer_id, member_id)
    period = period_of(session, chain_id, start, end, now)
    scope = _Scope(chain_id, dealer_id, member_id)
    if session.get_bind().dialect.name == "postgresql":
        # Its sorts and hashes over a month of the chain's waits fit in memory, not on disk.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    owners: dict[tuple, ServiceFigures] = {}

    def of(dealer, owner) -> ServiceFigures:
        found = owners.get((dealer, owner))
        if found is None:
            found = owners[dealer, owner] = ServiceFigures()
        return found

    for dealer, owner, total, new, seats in session.execute(_groups(scope, period)):
        figures = of(dealer, owner)
        figures.groups_total, figures.new_groups, figures.members_total = total, new, seats
    for dealer, owner, seats in session.execute(_seats(scope, period)):
        of(dealer, owner).new_members = seats
    for dealer, owner, writers, groups, messages, from_customer in session.execute(
        _writers(scope, period)
    ):
        figures = of(dealer, owner)
        figures.members_who_wrote, figures.groups_with_messages = writers, groups
        figures.messages, figures.customer_messages = messages, from_customer
    for dealer, owner, same_day, unanswered, oldest in session.execute(_waits(scope, period)):
        figures = of(dealer, owner)
        figures.answered_same_day, figures.unanswered_now = same_day, unanswered
        figures.oldest_unanswered = oldest
    durations = _durations(session, scope, period)
    hours = BusinessHours.of_chain(session.get(Chain, chain_id))
    weeks = _weeks(session, scope, period)
    return _report(session, period, hours, now, owners, durations, weeks)


@dataclass(frozen=True)
class _Scope:
    chain_id: uuid.UUID
    dealer_id: uuid.UUID | None
    member_id: uuid.UUID | None

    def where(self, model, owner_column: str = "owner_member_id") -> list:
        found = [model.chain_id == self.chain_id]
        if self.dealer_id is not None:
            found.append(model.dealer_id == self.dealer_id)
        if self.member_id is not None:
            found.append(getattr(model, owner_column) == self.member_id)
        return found


def _check_filters(session, chain_id, dealer_id, member_id) -> uuid.UUID | None:
    """The dealer the report is about, if any: `dealer_id`'s, or the member's."""
    errors = FieldErrors()
    if dealer_id is not None:
        dealer = session.get(Organisation, dealer_id)
        if dealer is None or dealer.chain_id != chain_id:
            errors.add("dealer_id", "No such dealer in this chain.")
        elif dealer.kind != "dealer":
            errors.add("dealer_id", "Not a dealer.")
    if member_id is not None:
        member = session.get(Member, member_id)
        if member is None or member.chain_id != chain_id:
            errors.add("member_id", "No such member in this chain.")
        elif member.organisation.kind != "dealer":
            errors.add("member_id", "Not a dealer's member: only they own groups.")
        elif dealer_id is not None and member.organisation_id != dealer_id:
            errors.add("member_id", "Not a member of `dealer_id`.")
        else:
            dealer_id = member.organisation_id
    errors.raise_any()
    return dealer_id


def _groups(scope: _Scope, period: Period):
    group = DeliveryGroup
    return (
        select(
            group.dealer_id,
            group.owner_member_id,
            func.count(),
            func.sum(case((group.created_at >= period.since, 1), else_=0)),
            func.sum(group.member_count),
        )
        .where(*scope.where(group), group.created_at < period.until)
        .group_by(group.dealer_id, group.owner_member_id)
    )


def _seats(scope: _Scope, period: Period):
    return (
        select(SeatDay.dealer_id, SeatDay.owner_member_id, func.sum(SeatDay.seats))
        .where(*scope.where(SeatDay), rollup_rows(period, SeatDay))
        .group_by(SeatDay.dealer_id, SeatDay.owner_member_id)
    )


def _writers(scope: _Scope, period: Period):
    # Each writer of each group once, whatever the number of days they wrote on.
    each = (
        select(
            WriterDay.dealer_id,
            WriterDay.owner_member_id,
            WriterDay.group_id,
            WriterDay.writer,
            func.sum(WriterDay.messages).label("messages"),
        )
        .where(*scope.where(WriterDay), WriterDay.day.between(period.start, period.end))
        .group_by(
            WriterDay.dealer_id, WriterDay.owner_member_id, WriterDay.group_id, WriterDay.writer
        )
        .subquery()
    )
    return select(
        each.c.dealer_id,
        each.c.owner_member_id,
        func.count(),
        func.count(each.c.group_id.distinct()),
        func.sum(each.c.messages),
        func.sum(case((each.c.writer == CUSTOMER_WRITER, each.c.messages), else_=0)),
    ).group_by(each.c.dealer_id, each.c.owner_member_id)


def _waits(scope: _Scope, period: Period):
    wait = ReplyWait
    unanswered = wait.answered_at.is_(None)
    return (
        select(
            wait.dealer_id,
            wait.owner_member_id,
            func.sum(case((wait.same_day, 1), else_=0)),
            func.sum(case((unanswered, 1), else_=0)),
            func.min(case((unanswered, wait.asked_at))),
        )
        .where(*scope.where(wait), wait.asked_day.between(period.start, period.end))
        .group_by(wait.dealer_id, wait.owner_member_id)
    )


def _answered(scope: _Scope, period: Period, *, first_only: bool = False):
    """The answered waits' bucket counts on both clocks (columns clock, bucket, n), by
    dealer, owner and whether first, or by the day asked (`first_only`, for the weeks)."""
    wait = ReplyWait
    where = [*scope.where(wait), wait.asked_day.between(period.start, period.end),
             wait.answered_at.is_not(None)]  # fmt: skip
    keys = [wait.asked_day.label("day")] if first_only else [
        wait.dealer_id.label("dealer"), wait.owner_member_id.label("owner"), wait.first,
    ]  # fmt: skip
    if first_only:
        where.append(wait.first)

    def by(clock: str, column):
        return (
            select(*keys, literal(clock).label("clock"), column.label("bucket"),
                   func.count().label("n"))
            .where(*where)
            .group_by(*keys, column)
        )  # fmt: skip

    return union_all(by(WALL, wait.wall_bucket), by(BUSINESS, wait.business_bucket))


def _durations(session: Session, scope: _Scope, period: Period) -> dict[tuple, dict]:
    """{(dealer, owner): {"replies": Summary, "first_responses": Summary}}, for each owner,
    each dealer (owner None) and the whole (both None), the quantiles taken by the database.
    PostgreSQL takes them exact, from the seconds (percentile_disc is the nearest rank); an
    owner's waits are too few for a histogram to be shorter than they are. Elsewhere from
    the histograms, to within 1 %."""
    if session.get_bind().dialect.name == "postgresql":
        return _exact_durations(session, scope, period)
    counted = _answered(scope, period).cte("counted")
    c = counted.c
    kinds = union_all(
        select(c.dealer, c.owner, literal("replies").label("kind"), c.clock, c.bucket,
               func.sum(c.n).label("n"))
        .group_by(c.dealer, c.owner, c.clock, c.bucket),
        select(c.dealer, c.owner, literal("first_responses"), c.clock, c.bucket, c.n)
        .where(c.first),
    ).cte("kinds")  # fmt: skip
    k = kinds.c
    none = null().cast(Uuid)
    levels = union_all(
        select(k.dealer, k.owner, k.kind, k.clock, k.bucket, k.n),
        select(k.dealer, none, k.kind, k.clock, k.bucket, func.sum(k.n))
        .group_by(k.dealer, k.kind, k.clock, k.bucket),
        select(none, none, k.kind, k.clock, k.bucket, func.sum(k.n))
        .group_by(k.kind, k.clock, k.bucket),
    ).subquery("levels")  # fmt: skip
    statement = nearest_ranks(levels, ["dealer", "owner", "kind", "clock"])
    found: dict[tuple, dict] = {}
    for (dealer, owner, kind), summary in summaries(session.execute(statement), 4).items():
        found.setdefault((dealer, owner), {})[kind] = summary
    return found


def _exact_durations(session: Session, scope: _Scope, period: Period) -> dict[tuple, dict]:
    wait = ReplyWait

    def at(column, first: bool = False):
        return _percentiles(column).filter(wait.first) if first else _percentiles(column)

    statement = (
        select(wait.dealer_id, wait.owner_member_id, func.count(),
               func.count().filter(wait.first), at(wait.wall_seconds),
               at(wait.business_seconds), at(wait.wall_seconds, True),
               at(wait.business_seconds, True))
        .where(*scope.where(wait), wait.asked_day.between(period.start, period.end),
               wait.answered_at.is_not(None))
        .group_by(func.grouping_sets(tuple_(wait.dealer_id, wait.owner_member_id),
                                     tuple_(wait.dealer_id), text("()")))
    )  # fmt: skip
    found = {}
    for dealer, owner, count, firsts, wall, business, first_wall, first_business in session.execute(
        statement
    ):
        found[dealer, owner] = {
            "replies": _exact(count, wall, business),
            "first_responses": _exact(firsts, first_wall, first_business),
        }
    return found


def _exact(count: int, wall: list | None, business: list | None) -> Summary:
    at = {}
    for clock, values in ((WALL, wall), (BUSINESS, business)):
        at |= {(clock, q): v for q, v in zip(QUANTILES, values or (), strict=False)}
    return Summary(count, at)


def _weeks(session: Session, scope: _Scope, period: Period) -> list[Week]:
    """Each week's first responses, from the Monday on or before the period's start; a week
    the period cuts counts its days within the period."""
    monday = period.start - timedelta(days=period.start.weekday())
    if session.get_bind().dialect.name == "postgresql":
        found = _exact_weeks(session, scope, period, monday)
    else:
        days = _answered(scope, period, first_only=True).subquery("days")
        week = _week_of(session, days.c.day, monday).label("week")
        counted = (
            select(week, days.c.clock, days.c.bucket, func.sum(days.c.n).label("n"))
            .group_by(week, days.c.clock, days.c.bucket)
            .subquery("weeks")
        )
        found = summaries(session.execute(nearest_ranks(counted, ["week", "clock"])), 2)
    weeks = []
    for n in range((period.end - monday).days // 7 + 1):
        weeks.append(Week(monday + timedelta(days=7 * n), found.get((n,), Summary())))
    return weeks


def _exact_weeks(session: Session, scope: _Scope, period: Period, monday: date) -> dict:
    wait = ReplyWait
    week = _week_of(session, wait.asked_day, monday)
    statement = (
        select(week, func.count(), _percentiles(wait.wall_seconds),
               _percentiles(wait.business_seconds))
        .where(*scope.where(wait), wait.asked_day.between(period.start, period.end),
               wait.answered_at.is_not(None), wait.first)
        .group_by(week)
    )  # fmt: skip
    return {(n,): _exact(count, wall, business) for n, count, wall, business in
            session.execute(statement)}  # fmt: skip


def _percentiles(column):
    """QUANTILES of `column` by nearest rank, exact: PostgreSQL's percentile_disc."""
    quantiles = array([float(q) for q in QUANTILES])
    return func.percentile_disc(quantiles, type_=ARRAY(BigInteger)).within_group(column)


def _week_of(session: Session, day, monday: date):
    """Which week from `monday` a day is in: 0, 1, …"""
    if session.get_bind().dialect.name == "postgresql":
        return (day - monday) // 7  # date - date: days, a whole number
    return func.cast((func.julianday(day) - func.julianday(monday.isoformat())) / 7, Integer)


def _report(session, period, hours, now, owners: dict[tuple, ServiceFigures], durations, weeks):
    dealer_ids = {dealer for dealer, _ in owners}
    member_ids = {owner for _, owner in owners}
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(dealer_ids))
        ).all()
    )
    names |= dict(
        session.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids))).all()
    )
    dealers: dict[uuid.UUID, ServiceFigures] = {}
    total = ServiceFigures()
    members = []
    for (dealer, owner), figures in owners.items():
        dealers.setdefault(dealer, ServiceFigures()).add(figures)
        total.add(figures)
        members.append(Row(dealer, names[dealer], owner, names[owner], figures))
    members.sort(key=lambda r: (r.dealer_name, str(r.dealer_id), r.member_name, str(r.member_id)))
    timed = [*owners.items(), *(((d, None), f) for d, f in dealers.items()), ((None, None), total)]
    for key, figures in timed:
        found = durations.get(key, {})
        figures.replies = found.get("replies", Summary())
        figures.first_responses = found.get("first_responses", Summary())
    dealer_rows = sorted(
        (Row(dealer, names[dealer], None, None, figures) for dealer, figures in dealers.items()),
        key=lambda r: (r.dealer_name, str(r.dealer_id)),
    )
    return ServiceReport(period, hours, now, total, dealer_rows, members, weeks)


FIGURES = ("new_groups", "groups_total", "groups_with_messages", "new_members", "members_total",
           "members_who_wrote", "messages", "customer_messages")  # fmt: skip
TIMES = (("first_response", "first_responses"), ("reply", "replies"))


def record(report: ServiceReport, figures: ServiceFigures) -> dict:
    """The figures as one flat record, seconds as whole numbers: a row of the API's answer
    and of its spreadsheet."""
    found = {name: getattr(figures, name) for name in FIGURES}
    for prefix, name in TIMES:
        durations: Summary = getattr(figures, name)
        found[name] = durations.count
        for clock, infix in ((WALL, ""), (BUSINESS, "_business")):
            found[f"{prefix}{infix}_median_seconds"] = durations.seconds(clock, MEDIAN)
            found[f"{prefix}{infix}_p90_seconds"] = durations.seconds(clock, P90)
    longest = report.longest_wait(figures)
    found |= {
        "answered_same_day": figures.answered_same_day,
        "same_day_rate": figures.same_day_rate,
        "unanswered_now": figures.unanswered_now,
        "longest_wait_seconds": longest[0] if longest else None,
        "longest_wait_business_seconds": longest[1] if longest else None,
    }
    return found


def row_record(report: ServiceReport, row: Row) -> dict:
    return {
        "dealer_id": row.dealer_id,
        "dealer_name": row.dealer_name,
        "member_id": row.member_id,
        "member_name": row.member_name,
        **record(report, row.figures),
    }


def week_record(week: Week) -> dict:
    durations = week.first_responses
    return {
        "week": week.start,
        "first_responses": durations.count,
        "median_seconds": durations.seconds(WALL, MEDIAN),
        "business_median_seconds": durations.seconds(BUSINESS, MEDIAN),
    }
