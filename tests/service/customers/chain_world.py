"""A brand's chain built through the service functions, for the tests of customers, orders and
delivery groups: the brand, two dealers with people of every role, two factories with a
coordinator each. Also what the tests that race two sessions need: a chain that is really
committed (and deleted afterwards) and a way to make the race happen every time."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from time import monotonic
from typing import TypeVar

import pytest
from sqlalchemy import Engine, delete, func, or_, select, text
from sqlalchemy.orm import Session

from service.chain.chains import create_chain
from service.chain.members import add_member, remove_member
from service.chain.models import Chain, Member, Organisation
from service.chain.organisations import add_organisation
from service.customers.customers import add_customer
from service.customers.models import Customer
from service.groups.groups import ensure_delivery_group
from service.groups.models import DeliveryGroup
from service.models import metadata
from service.orders.models import Order
from service.orders.orders import ItemRequest, place_order

T = TypeVar("T")


@dataclass
class ChainWorld:
    session: Session
    chain: Chain
    brand: Organisation
    dealer: Organisation  # "Bund Home": the dealer the tests' customers are served by
    other_dealer: Organisation  # "Riverside Living": a dealer of the same chain
    # The dealer's people. The owner serves the customers; the colleague takes handovers.
    owner: Member
    colleague: Member
    designer: Member
    installer: Member
    sales: Member
    admin: Member
    gone: Member  # a designer who has left (removed): joins nothing any more
    # The other dealer's people.
    their_owner: Member
    their_designer: Member
    their_installer: Member
    # Factories, each with a coordinator (None in a world built without factories).
    factory: Organisation | None = None
    other_factory: Organisation | None = None
    coordinator: Member | None = None
    other_coordinator: Member | None = None
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def id(self):
        return self.chain.id

    def next_mobile(self) -> str:
        return f"139{next(self._numbers):08d}"

    def customer(
        self,
        name: str = "Wang Fang",
        *,
        mobile: str | None = None,
        dealer: Organisation | None = None,
        owner: Member | None = None,
        tags=(),
    ) -> Customer:
        customer, created = add_customer(
            self.session,
            chain_id=self.id,
            name=name,
            mobile=mobile or self.next_mobile(),
            dealer_id=(dealer or self.dealer).id,
            owner_member_id=(owner or self.owner).id,
            tags=tags,
        )
        assert created, "the world's customers are new ones"
        return customer

    def items(self, *descriptions: str) -> list[ItemRequest]:
        """One item per description, at the factory and then the other factory in turn."""
        descriptions = descriptions or ("Wardrobe panels", "Wardrobe frame")
        factories = itertools.cycle([self.factory, self.other_factory])
        return [
            ItemRequest(factory_id=next(factories).id, description=description, quantity=1)
            for description in descriptions
        ]

    def order(
        self,
        customer: Customer,
        *,
        reference: str | None = None,
        items: list[ItemRequest] | None = None,
    ) -> tuple[Order, DeliveryGroup]:
        order, group, created = place_order(
            self.session,
            chain_id=self.id,
            customer_id=customer.id,
            dealer_id=customer.dealer_id,
            reference=reference or f"SO-{next(self._numbers)}",
            items=items or self.items(),
        )
        assert created, "the world's orders are new ones"
        return order, group

    def count(self, model, *criteria) -> int:
        """How many rows of `model` this chain has (that match `criteria`)."""
        stmt = select(func.count()).select_from(model).where(*criteria)
        if "chain_id" in model.__table__.c:
            stmt = stmt.where(model.chain_id == self.id)
        return self.session.scalar(stmt)


def build_chain_world(session: Session, name: str, *, factories: bool = True) -> ChainWorld:
    chain, brand = create_chain(session, name=name)

    def organisation(kind: str, org_name: str) -> Organisation:
        return add_organisation(session, chain_id=chain.id, kind=kind, name=org_name)[0]

    def member(org: Organisation, person: str, role: str) -> Member:
        return add_member(
            session, chain_id=chain.id, organisation_id=org.id, name=person, role=role
        )

    dealer = organisation("dealer", "Bund Home")
    other_dealer = organisation("dealer", "Riverside Living")
    world = ChainWorld(
        session=session,
        chain=chain,
        brand=brand,
        dealer=dealer,
        other_dealer=other_dealer,
        owner=member(dealer, "Li Wei", "service_specialist"),
        colleague=member(dealer, "Zhao Min", "service_specialist"),
        designer=member(dealer, "Chen Jie", "designer"),
        installer=member(dealer, "Wu Gang", "installer"),
        sales=member(dealer, "Sun Li", "sales"),
        admin=member(dealer, "Zhou Yu", "admin"),
        gone=member(dealer, "Qian Hao", "designer"),
        their_owner=member(other_dealer, "Ma Lin", "service_specialist"),
        their_designer=member(other_dealer, "He Ping", "designer"),
        their_installer=member(other_dealer, "Lin Tao", "installer"),
    )
    remove_member(session, chain_id=chain.id, member_id=world.gone.id)
    if factories:
        world.factory = organisation("factory", "Panel Works")
        world.other_factory = organisation("factory", "Frame Works")
        world.coordinator = member(world.factory, "Guo Qiang", "coordinator")
        world.other_coordinator = member(world.other_factory, "Xu Bo", "coordinator")
    return world


@pytest.fixture
def acme(session: Session) -> ChainWorld:
    return build_chain_world(session, "Acme Home")


@pytest.fixture
def rival(session: Session) -> ChainWorld:
    """Another brand's chain, built the same way (same names, same mobiles)."""
    return build_chain_world(session, "Rival Living")


# --- Races between two sessions, on committed data (PostgreSQL only) ---


@pytest.fixture
def racing(engine: Engine):
    """A committed chain (without factories) for tests that race two sessions; only this
    chain's rows are deleted afterwards, so tests running at the same time keep theirs."""
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite takes its write lock when a writing transaction begins (BEGIN IMMEDIATE), "
            "so two writers never interleave and this race cannot happen there."
        )
    with Session(engine, expire_on_commit=False) as session:
        world = build_chain_world(session, "Race Home", factories=False)
        session.commit()
    yield world
    delete_chain(engine, world.id)


def new_customers_group(session: Session, world: ChainWorld) -> DeliveryGroup:
    """A new customer of the world's dealer, Wang Fang, and their delivery group."""
    customer, _ = add_customer(
        session,
        chain_id=world.id,
        name="Wang Fang",
        mobile="13912345678",
        dealer_id=world.dealer.id,
        owner_member_id=world.owner.id,
    )
    group, _ = ensure_delivery_group(session, customer)
    return group


def delete_chain(engine: Engine, chain_id) -> None:
    """Delete one chain's rows from every table, children first."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name == "chains":
                conn.execute(delete(table).where(table.c.id == chain_id))
            elif "chain_id" in table.c:
                conn.execute(delete(table).where(table.c.chain_id == chain_id))
            else:
                # A row that points at any row of the chain (a customer's seat points at
                # no member, only at the group).
                conn.execute(
                    delete(table).where(
                        or_(
                            *(
                                fk.parent.in_(
                                    select(fk.column).where(fk.column.table.c.chain_id == chain_id)
                                )
                                for fk in table.foreign_keys
                                if "chain_id" in fk.column.table.c
                            )
                        )
                    )
                )


def race(engine: Engine, first: Session, second: Session, work: Callable[[Session], T]) -> T:
    """Make `work` (run on `second`, in a thread) wait for a lock that `first` holds, then
    commit `first`; return what `work` returned once `second` has committed too. `first`
    must hold, uncommitted, the change that `work` will collide with. The wait is observed
    in pg_stat_activity, not hoped for: the race happens on every run."""
    pid = second.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def run() -> T:
        result = work(second)
        second.commit()
        return result

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run)
        try:
            _wait_until_blocked(engine, pid, future)
        except BaseException:
            first.rollback()  # let the thread go, so that the pool can be shut down
            raise
        first.commit()
        return future.result(timeout=30)


def _wait_until_blocked(engine: Engine, pid: int, future) -> None:
    waiting = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid")
    deadline = monotonic() + 30
    with engine.connect() as watcher:
        while not watcher.execute(waiting, {"pid": pid}).scalar():
            watcher.rollback()  # a fresh snapshot of pg_stat_activity on the next look
            try:
                future.result(timeout=0.01)
            except FutureTimeout:
                assert monotonic() < deadline, "the second session never reached the lock"
                continue
            raise AssertionError("the second session finished without waiting for the first")
