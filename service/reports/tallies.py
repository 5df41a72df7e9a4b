"""What the service report counts, counted as it happens, in the transaction that makes it
happen: a message written (WriterDay), a customer's message waiting and the reply that ends
its wait (ReplyWait), seats taken in a group (SeatDay). A report then reads these rows, a
few per group and day, instead of every message (service.reports.conversations); and a
message rolled back is never counted, nor one stored counted twice.

Which messages are replies, and how waits are measured: service.reports.replies."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.chain.models import Chain, Member
from service.groups.models import DeliveryGroup, Message
from service.reports.business_time import BusinessHours
from service.reports.models import ReplyWait, SeatDay, WriterDay
from service.reports.sketch import bucket

CUSTOMER_WRITER = "customer"

_ANSWER = (
    update(ReplyWait.__table__)
    # Not one already answered: of two replies at once, the first to commit answers.
    .where(ReplyWait.id == bindparam("_id"), ReplyWait.answered_at.is_(None))
    .values(
        answered_at=bindparam("_at"),
        answered_by=bindparam("_by"),
        wall_seconds=bindparam("_wall"),
        business_seconds=bindparam("_business"),
        wall_bucket=bindparam("_wall_bucket"),
        business_bucket=bindparam("_business_bucket"),
        same_day=bindparam("_same_day"),
    )
)


def _insert(session: Session):
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _hours(session: Session, chain_id: uuid.UUID) -> BusinessHours:
    return BusinessHours.of_chain(session.get(Chain, chain_id))


def tally_message(session: Session, group: DeliveryGroup, message: Message) -> None:
    """Count a message a person wrote (the customer or a member), stored and flushed: its
    writer's day, and the wait it starts (the customer's) or ends (a reply). The customer's
    are tallied with their group's row locked (service.groups.messages), so that of two
    written at once only one is the first since the last reply."""
    hours = _hours(session, group.chain_id)
    day = message.created_at.astimezone(hours.zone).date()
    writer = CUSTOMER_WRITER if message.sender == "customer" else str(message.sender_member_id)
    insert = _insert(session)
    session.execute(
        insert(WriterDay)
        .values(group_id=group.id, day=day, writer=writer, chain_id=group.chain_id,
                dealer_id=group.dealer_id, owner_member_id=group.owner_member_id, messages=1)
        .on_conflict_do_update(
            index_elements=["group_id", "day", "writer"],
            set_={"messages": WriterDay.messages + 1},
        )
    )  # fmt: skip
    if message.sender == "customer":
        _start_wait(session, group, message, day)
    elif session.get(Member, message.sender_member_id).organisation_id == group.dealer_id:
        _end_waits(session, group.id, message, hours)


def _start_wait(session: Session, group: DeliveryGroup, message: Message, day) -> None:
    waiting = session.scalar(
        select(ReplyWait.id).where(ReplyWait.group_id == group.id, ReplyWait.answered_at.is_(None))
    )
    session.add(
        ReplyWait(
            chain_id=group.chain_id,
            group_id=group.id,
            dealer_id=group.dealer_id,
            owner_member_id=group.owner_member_id,
            message_id=message.id,
            asked_at=message.created_at,
            asked_day=day,
            first=waiting is None,
        )
    )
    session.flush()


def _end_waits(session: Session, group_id, reply: Message, hours: BusinessHours) -> None:
    waits = session.execute(
        select(ReplyWait.id, ReplyWait.asked_at).where(
            ReplyWait.group_id == group_id, ReplyWait.answered_at.is_(None)
        )
    ).all()
    if waits:
        session.execute(
            _ANSWER, [answer(wait_id, asked_at, reply, hours) for wait_id, asked_at in waits]
        )


def answer(wait_id, asked_at: datetime, reply: Message, hours: BusinessHours) -> dict:
    """The figures of a wait that `reply` ends, as _ANSWER's parameters."""
    at = reply.created_at
    wall = max(0, int((at - asked_at).total_seconds()))
    business = int(hours.between(asked_at, at).total_seconds())
    return {
        "_id": wait_id,
        "_at": at,
        "_by": reply.sender_member_id,
        "_wall": wall,
        "_business": business,
        "_wall_bucket": bucket(wall),
        "_business_bucket": bucket(business),
        "_same_day": _local_day(asked_at, hours.zone) == _local_day(at, hours.zone),
    }


def _local_day(moment: datetime, zone: ZoneInfo):
    return moment.astimezone(zone).date()


def tally_seats(session: Session, chain_id: uuid.UUID, taken: Counter, at: datetime) -> None:
    """Count seats taken at `at`: `taken` counts them by (dealer id, owner member id)."""
    day = at.astimezone(_hours(session, chain_id).zone).date()
    insert = _insert(session)
    for (dealer_id, owner_id), seats in taken.items():
        for grain, start in (("day", day), ("month", day.replace(day=1))):
            session.execute(
                insert(SeatDay)
                .values(chain_id=chain_id, grain=grain, day=start, dealer_id=dealer_id,
                        owner_member_id=owner_id, seats=seats)
                .on_conflict_do_update(
                    index_elements=["chain_id", "grain", "day", "dealer_id", "owner_member_id"],
                    set_={"seats": SeatDay.seats + seats},
                )
            )  # fmt: skip


def tally_group_seats(session: Session, group: DeliveryGroup, seats: int, at: datetime) -> None:
    taken = Counter({(group.dealer_id, group.owner_member_id): seats})
    tally_seats(session, group.chain_id, taken, at)
