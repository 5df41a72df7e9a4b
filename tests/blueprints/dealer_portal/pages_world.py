"""A chain with two dealers, their customers and orders, and an order's progress with a late
report and an ETA that has passed: what the customer and order pages are tested against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import time_machine
from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.members import add_member
from service.chain.models import Member
from service.chain.organisations import add_organisation
from service.customers.customers import add_customer
from service.customers.models import Customer
from service.db import utcnow
from service.orders.models import Order
from service.orders.orders import ItemRequest, place_order
from service.progress.recording import record_progress

PASSWORD = "correct horse"


@dataclass
class World:
    members: dict[str, Member]
    customers: dict[str, Customer]
    orders: dict[str, Order]
    factories: dict[str, object]


def build_world(session: Session) -> World:
    chain, brand = create_chain(session, name="Acme Home")
    pudong, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="Pudong Store")
    tianhe, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="Tianhe Store")
    foshan, _ = add_organisation(session, chain_id=chain.id, kind="factory", name="Foshan Works")
    dongguan, _ = add_organisation(
        session, chain_id=chain.id, kind="factory", name="Dongguan Textiles"
    )
    people = {
        "admin": (pudong, "Li Na", "admin", "li.na@pudong.example"),
        "specialist": (pudong, "Wang Fang", "service_specialist", "wang.fang@pudong.example"),
        "rival": (tianhe, "Huang Wei", "admin", "huang.wei@tianhe.example"),
        "brand": (brand, "Ma Lin", "admin", "ma.lin@acme.example"),
    }
    members = {
        key: add_member(
            session,
            chain_id=chain.id,
            organisation_id=org.id,
            name=name,
            role=role,
            email=email,
            password=PASSWORD,
        )
        for key, (org, name, role, email) in people.items()
    }

    def customer(name, mobile, dealer, owner, tags):
        found, _ = add_customer(
            session,
            chain_id=chain.id,
            name=name,
            mobile=mobile,
            dealer_id=dealer.id,
            owner_member_id=members[owner].id,
            tags=tags,
        )
        return found

    customers = {
        "zhang": customer("Zhang San", "13912345678", pudong, "admin", ["sofa", "vip"]),
        "chen": customer("Chen Jing", "+86 139 0000 1111", pudong, "specialist", ["bed"]),
        "zhao": customer("Zhao Lei", "13755556666", tianhe, "rival", ["vip"]),
    }

    now = utcnow()
    placed = now - timedelta(days=10)
    with time_machine.travel(placed, tick=False):
        so1, _, _ = place_order(
            session,
            chain_id=chain.id,
            customer_id=customers["zhang"].id,
            dealer_id=pudong.id,
            reference="SO-1",
            items=[
                ItemRequest(foshan.id, "Sofa frame", 1),
                ItemRequest(dongguan.id, "Cushions", 4),
            ],
        )
        so2, _, _ = place_order(
            session,
            chain_id=chain.id,
            customer_id=customers["chen"].id,
            dealer_id=pudong.id,
            reference="SO-2",
            items=[ItemRequest(dongguan.id, "Bed linen", 2)],
        )
        so9, _, _ = place_order(
            session,
            chain_id=chain.id,
            customer_id=customers["zhao"].id,
            dealer_id=tianhe.id,
            reference="SO-9",
            items=[ItemRequest(foshan.id, "Table", 1)],
        )
    frame, cushions = so1.items
    factory = f"factory:{foshan.id}"
    record_progress(
        session,
        work_item=frame,
        milestone="designed",
        actor=factory,
        occurred_at=placed + timedelta(days=1),
    )
    record_progress(
        session,
        work_item=frame,
        milestone="in_production",
        actor=factory,
        occurred_at=placed + timedelta(days=3),
        note="On the line",
        eta=placed + timedelta(days=6),
    )
    # Behind what is known: recorded as late, the milestone stays.
    record_progress(
        session,
        work_item=frame,
        milestone="designed",
        actor=factory,
        occurred_at=placed + timedelta(days=2),
        note="Drawings signed",
    )
    record_progress(
        session,
        work_item=cushions,
        milestone="shipped",
        actor=f"factory:{dongguan.id}",
        occurred_at=placed + timedelta(days=4),
        eta=now + timedelta(days=3),
    )
    session.commit()
    return World(
        members=members,
        customers=customers,
        orders={"SO-1": so1, "SO-2": so2, "SO-9": so9},
        factories={"foshan": foshan, "dongguan": dongguan},
    )
