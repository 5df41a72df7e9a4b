"""The Team page's domain: a dealer's administrator and their colleagues. Only a dealer's
administrators have a team to manage; to anyone else, and for anyone outside the dealer, it
is as if there were nothing there (NotFound)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain.members import add_member, get_member, remove_member
from service.chain.models import Member, PasswordLink
from service.chain.password_links import make_password_link
from service.customers.handovers import Handover, hand_over
from service.errors import Invalid, NotFound
from service.portal.access import Reader


def _check_admin(reader: Reader) -> None:
    if not reader.whole_dealer:
        raise NotFound("No such page.")


def team(session: Session, reader: Reader) -> list[Member]:
    """The live members of the reader's dealer, by name."""
    _check_admin(reader)
    return list(
        session.scalars(
            select(Member)
            .where(
                Member.chain_id == reader.chain_id,
                Member.organisation_id == reader.organisation_id,
                Member.removed_at.is_(None),
            )
            .order_by(Member.name, Member.id)
        )
    )


def colleague(session: Session, reader: Reader, member_id: uuid.UUID, *, field=None) -> Member:
    """A live member of the reader's own dealer; NotFound for anyone else."""
    _check_admin(reader)
    member = get_member(session, reader.chain_id, member_id, field=field)
    if member.organisation_id != reader.organisation_id:
        if field:
            raise Invalid.field(field, "No such member.")
        raise NotFound("No such member.")
    return member


def add_colleague(
    session: Session,
    reader: Reader,
    *,
    name: str,
    role: str,
    email: str | None = None,
    mobile: str | None = None,
) -> Member:
    """A new member of the reader's dealer, by the same rules as the brand API's."""
    _check_admin(reader)
    return add_member(
        session,
        chain_id=reader.chain_id,
        organisation_id=reader.organisation_id,
        name=name,
        role=role,
        email=email,
        mobile=mobile,
    )


def colleague_password_link(
    session: Session, reader: Reader, member_id: uuid.UUID
) -> tuple[PasswordLink, str]:
    member = colleague(session, reader, member_id)
    return make_password_link(
        session, chain_id=reader.chain_id, member_id=member.id, made_by=f"member:{reader.member_id}"
    )


def remove_colleague(
    session: Session, reader: Reader, member_id: uuid.UUID, *, successor_id: uuid.UUID
) -> Handover:
    """Removes a colleague after handing their customers and group seats to another (the
    brand API's handover): nobody's customer is left without someone to serve them."""
    leaving = colleague(session, reader, member_id)
    if leaving.id == reader.member_id:
        raise Invalid.field("member", "You cannot remove yourself.")
    successor = colleague(session, reader, successor_id, field="successor")
    if successor.id == leaving.id:
        raise Invalid.field("successor", "Must be someone else.")
    handover = hand_over(
        session,
        chain_id=reader.chain_id,
        from_member_id=leaving.id,
        to_member_id=successor.id,
        actor=f"member:{reader.member_id}",
    )
    remove_member(session, chain_id=reader.chain_id, member_id=leaving.id)
    return handover
