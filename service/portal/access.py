"""Who in the portal may see what. Every portal query about customers, groups and orders is
narrowed by one of these conditions, so that a page cannot show what its reader may not see:

- a dealer's administrator sees the whole dealer;
- its other members (service specialists, designers, installers, ...) see the customers they
  own and the groups they have a seat in, with those customers' orders;
- the brand's members see every dealer of the chain, read-only unless they are seated;
- a factory's members see no customer.

Anything outside a reader's view is answered as if it did not exist (NotFound), never as
forbidden: a reader must not learn that an id belongs to someone else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, union_all
from sqlalchemy.orm import Session

from service.attachments.models import Attachment
from service.chain.models import Member
from service.customers.models import Customer
from service.errors import NotFound
from service.groups.models import DeliveryGroup, GroupMember
from service.orders.models import Order


@dataclass(frozen=True)
class Reader:
    """A signed-in member as the portal's queries need them."""

    chain_id: uuid.UUID
    member_id: uuid.UUID
    organisation_id: uuid.UUID
    kind: str  # of the member's organisation: brand, dealer or factory
    admin: bool

    @classmethod
    def of(cls, member: Member) -> Reader:
        return cls(
            member.chain_id,
            member.id,
            member.organisation_id,
            member.organisation.kind,
            member.role == "admin",
        )

    @property
    def whole_dealer(self) -> bool:
        return self.kind == "dealer" and self.admin


def _seated(reader: Reader, group_id) -> ColumnElement[bool]:
    seat = (GroupMember.group_id == group_id) & (GroupMember.member_id == reader.member_id)
    return exists().where(seat)


def groups_visible(reader: Reader, *, mine: bool = False) -> ColumnElement[bool]:
    """The delivery groups `reader` may open; `mine`: only those they own or sit in."""
    in_chain = DeliveryGroup.chain_id == reader.chain_id
    own = or_(DeliveryGroup.owner_member_id == reader.member_id, _seated(reader, DeliveryGroup.id))
    if mine:
        return in_chain & own
    if reader.kind == "brand":
        return in_chain
    if reader.whole_dealer:
        return in_chain & (DeliveryGroup.dealer_id == reader.organisation_id)
    if reader.kind == "dealer":
        return in_chain & own
    return false()


def customers_visible(reader: Reader, *, mine: bool = False) -> ColumnElement[bool]:
    """The customers `reader` may open: those they own, or whose group they may open."""
    in_chain = Customer.chain_id == reader.chain_id
    group = select(DeliveryGroup.id).where(
        DeliveryGroup.customer_id == Customer.id, groups_visible(reader, mine=mine)
    )
    if not mine and reader.kind == "brand":
        return in_chain
    if not mine and reader.whole_dealer:
        return in_chain & (Customer.dealer_id == reader.organisation_id)
    if reader.kind not in ("brand", "dealer"):
        return false()
    return in_chain & or_(Customer.owner_member_id == reader.member_id, group.exists())


def orders_visible(reader: Reader, *, mine: bool = False) -> ColumnElement[bool]:
    """The orders of the customers `reader` may open."""
    if not mine and reader.kind == "brand":
        return Order.chain_id == reader.chain_id
    if not mine and reader.whole_dealer:
        return (Order.chain_id == reader.chain_id) & (Order.dealer_id == reader.organisation_id)
    if reader.kind not in ("brand", "dealer"):
        return false()
    return (Order.chain_id == reader.chain_id) & Order.customer_id.in_(_own_customers(reader))


def _own_customers(reader: Reader) -> Select:
    """The customers `reader` owns or whose group they own or sit in (customers_visible's own
    part), as a union of three lookups that each has its index. Written as customers_visible's
    OR, PostgreSQL tests every customer of the chain against it and, misjudging how many pass,
    plans an order list at several times the cost (and compiles it: JIT)."""
    owned = select(Customer.id).where(
        Customer.chain_id == reader.chain_id, Customer.owner_member_id == reader.member_id
    )
    groups_owned = select(DeliveryGroup.customer_id).where(
        DeliveryGroup.chain_id == reader.chain_id,
        DeliveryGroup.owner_member_id == reader.member_id,
    )
    seated = (
        select(DeliveryGroup.customer_id)
        .join(GroupMember, GroupMember.group_id == DeliveryGroup.id)
        .where(DeliveryGroup.chain_id == reader.chain_id, GroupMember.member_id == reader.member_id)
    )
    return union_all(owned, groups_owned, seated)


def attachments_visible(reader: Reader) -> ColumnElement[bool]:
    """The attachments of the groups `reader` may open."""
    groups = select(DeliveryGroup.id).where(groups_visible(reader))
    return (Attachment.chain_id == reader.chain_id) & Attachment.group_id.in_(groups)


_CONDITIONS = {
    Attachment: attachments_visible,
    Customer: customers_visible,
    DeliveryGroup: groups_visible,
    Order: orders_visible,
}


def get_visible(session: Session, reader: Reader, model, id_: uuid.UUID):
    """The customer, group, order or attachment `id_` if `reader` may open it; NotFound
    otherwise, the same answer as for an id that never existed."""
    row = session.scalar(select(model).where(model.id == id_, _CONDITIONS[model](reader)))
    if row is None:
        raise NotFound(f"No such {model.__name__.lower()}.")
    return row


def may_write(session: Session, reader: Reader, group: DeliveryGroup) -> bool:
    """Whether `reader` may post in, and seat people in, a group they can see: its dealer's
    administrators and whoever is seated in it (the brand's people only when seated)."""
    if reader.whole_dealer and group.dealer_id == reader.organisation_id:
        return True
    if group.owner_member_id == reader.member_id:
        return True
    return bool(session.scalar(select(_seated(reader, group.id))))
