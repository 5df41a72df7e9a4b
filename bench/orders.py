"""Orders and delivery groups: placing orders, and listing a dealer's orders a page at a time.

    python bench/orders.py [--database-url postgresql://…/chaincollab_test] [--orders 100000]
                           [--single-orders 10000] [--batch 100] [--list-orders 1000000]
                           [--calls 300] [--seed 1] [--profile]

Placing, on the embedded default (SQLite file and embedded Redis) or on the PostgreSQL database
given. A fresh instance (a PostgreSQL database has its schema dropped and rebuilt) is migrated
with Alembic and given a chain: 20 dealers of very different sizes, each with 8 members, 12
factories, a directory tree, and a second group template for the dealers of one region. Then
one customer per order to come is written directly (adding customers is not what is measured),
and, in one run:

  batched     `place_order` for --orders orders, each for a new customer, so that each one opens
              a delivery group with its seats and welcome message; one session and one commit per
              --batch orders, as a client importing its backlog would;
  one by one  `place_order` for --single-orders more, one session and one commit per order, as
              the API does per request;
  baseline    into another fresh database, the rows the batched run wrote (orders, work items,
              timeline entries, delivery groups, seats, welcome messages) written
              with SQLAlchemy Core `insert()` executemany, one commit per --batch orders: no
              checks, no lookups. The ceiling for writing those rows.

Every SQL statement is counted, to report statements per order.

Listing, on PostgreSQL only. A fresh schema is filled with --list-orders orders of the 20
dealers over three years (more of them recently), for 0.4 as many customers, with milestones
that advance with age and work items at 12 factories for half of the orders, loaded with COPY.
Then `list_orders(chain_id, dealer_id=…, limit=50)` is timed, each call in its own session as a
request would: first pages; every page of one dealer following the cursors; the same with the
milestone filter and with the factory filter. The baseline is the same page fetched with OFFSET
at the same depths (what keyset pagination avoids). EXPLAIN (ANALYZE, BUFFERS) of the statements
`list_orders` sent shows the plans.

It prints the figures and never asserts on time; it exits non-zero when the database holds, or a
walk through the pages returns, other than what was put in.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy
from import_directory import describe_database, fresh_instance
from sqlalchemy import event, exists, func, insert, select, text
from sqlalchemy.engine import make_url

from service.chain.chains import create_chain
from service.chain.directory_groups import ensure_path
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from service.customers.models import Customer
from service.db import Database, new_id, utcnow
from service.groups.models import DeliveryGroup, GroupMember, Message
from service.groups.templates import create_template, render, template_for_dealer
from service.orders.models import Order, WorkItem
from service.orders.orders import ItemRequest, list_orders, place_order
from service.progress.milestones import FIRST, MILESTONES
from service.progress.models import TimelineEntry

PAGE = 50
DEALER_COUNT = 20
FACTORY_COUNT = 12
# Dealer i gets a share proportional to 1/(i+1)^0.8: the largest 21 %, the smallest 1.9 %.
DEALER_SKEW = 0.8
DEALER_PLACES = [
    ("East", "Shanghai", "上海"), ("East", "Hangzhou", "杭州"), ("East", "Nanjing", "南京"),
    ("East", "Suzhou", "苏州"), ("North", "Beijing", "北京"), ("North", "Tianjin", "天津"),
    ("North", "Qingdao", "青岛"), ("South", "Guangzhou", "广州"), ("South", "Shenzhen", "深圳"),
    ("South", "Xiamen", "厦门"), ("West", "Chengdu", "成都"), ("West", "Chongqing", "重庆"),
    ("West", "Xian", "西安"), ("Central", "Wuhan", "武汉"), ("Central", "Changsha", "长沙"),
]  # fmt: skip
FACTORY_PLACES = [
    ("Foshan", "佛山"),
    ("Dongguan", "东莞"),
    ("Chengdu", "成都"),
    ("Tianjin", "天津"),
]
PRODUCTS = ["衣柜 wardrobe", "橱柜 kitchen cabinet", "书柜 bookcase", "榻榻米 tatami platform",
            "床 bed frame", "沙发 sofa", "餐桌 dining table", "木门 interior door",
            "台面 worktop", "玻璃移门 glass sliding door", "五金 hardware set",
            "鞋柜 shoe cabinet"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN_NAMES = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
               "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晨"]  # fmt: skip
# A dealer's people: the customer's owner is one of its service specialists.
DEALER_STAFF = ["admin", "service_specialist", "service_specialist", "designer", "designer",
                "installer", "installer", "sales"]  # fmt: skip
EAST_TEMPLATE = {
    "name": "East China",
    "name_pattern": "{customer_name}·{dealer_name} 交付群",
    "welcome_message": "{customer_name}您好！我是{dealer_name}的{owner_name}，设计师也在群里。"
    "您订单的每一步进度都会在这里同步。",
    "member_roles": ["owner", "designer"],
}
# Orders of a given age, by the milestone they have reached: (days younger than, weights).
MILESTONES_BY_AGE = [
    (7, [40, 40, 20, 0, 0, 0, 0, 0]),
    (30, [0, 10, 50, 20, 20, 0, 0, 0]),
    (60, [0, 0, 0, 0, 20, 30, 30, 20]),
    (math.inf, [0, 0, 0, 0, 0, 0, 3, 97]),
]
LISTING_YEARS = 3
CUSTOMERS_PER_ORDER = 0.4
ORDERS_WITH_ITEMS = 0.5


def weights(count: int, skew: float) -> list[float]:
    return [1 / (rank + 1) ** skew for rank in range(count)]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


# The chain


@dataclass
class DealerSetup:
    id: uuid.UUID
    name: str
    weight: float
    owners: list[tuple[uuid.UUID, str]]  # service specialists: (id, name)
    # What a new group of this dealer gets, as ensure_delivery_group decides it.
    template_id: uuid.UUID
    name_pattern: str
    welcome_message: str
    rename_locked: bool
    member_cap: int
    seat_owner: bool
    seated_members: list[uuid.UUID]


@dataclass
class ChainSetup:
    chain_id: uuid.UUID
    brand_name: str
    dealers: list[DealerSetup]
    factories: list[tuple[uuid.UUID, str]]  # (id, code)
    factory_weights: list[float]


def build_chain(db: Database, rng: random.Random) -> ChainSetup:
    """Through the domain functions, as a brand would set its chain up."""
    with db.session() as session:
        chain, brand = create_chain(session, name="Acme Home 爱克美家居")
        dealers = []
        for index in range(DEALER_COUNT):
            region, city, city_zh = DEALER_PLACES[index % len(DEALER_PLACES)]
            group, _ = ensure_path(session, chain_id=chain.id, path=f"Dealers/{region}/{city}")
            dealer, _ = add_organisation(
                session,
                chain_id=chain.id,
                kind="dealer",
                name=f"{city_zh}旗舰店 {index + 1}",
                custom_id=f"D-{index + 1:03d}",
                group_ids=[group.id],
            )
            staff = [
                add_member(
                    session,
                    chain_id=chain.id,
                    organisation_id=dealer.id,
                    name=person_name(rng),
                    role=role,
                )
                for role in DEALER_STAFF
            ]
            dealers.append((dealer, staff))
        factories = []
        for index in range(FACTORY_COUNT):
            base, base_zh = FACTORY_PLACES[index % len(FACTORY_PLACES)]
            group, _ = ensure_path(session, chain_id=chain.id, path=f"Factories/{base}")
            factory, _ = add_organisation(
                session,
                chain_id=chain.id,
                kind="factory",
                name=f"{base_zh}生产基地 {index + 1}号线",
                custom_id=f"F-{index + 1:03d}",
                group_ids=[group.id],
            )
            for _ in range(2):
                add_member(
                    session,
                    chain_id=chain.id,
                    organisation_id=factory.id,
                    name=person_name(rng),
                    role="coordinator",
                )
            factories.append((factory.id, f"F{index + 1:02d}"))
        east, _ = ensure_path(session, chain_id=chain.id, path="Dealers/East")
        create_template(session, chain_id=chain.id, directory_group_id=east.id, **EAST_TEMPLATE)
        session.flush()
        setups = []
        for (dealer, staff), weight in zip(
            dealers, weights(DEALER_COUNT, DEALER_SKEW), strict=True
        ):
            template = template_for_dealer(session, chain.id, dealer.id)
            roles = [role for role in template.member_roles if role != "owner"]
            setups.append(
                DealerSetup(
                    id=dealer.id,
                    name=dealer.name,
                    weight=weight,
                    owners=[(m.id, m.name) for m in staff if m.role == "service_specialist"],
                    template_id=template.id,
                    name_pattern=template.name_pattern,
                    welcome_message=template.welcome_message,
                    rename_locked=template.rename_locked,
                    member_cap=template.member_cap,
                    seat_owner="owner" in template.member_roles,
                    seated_members=sorted(m.id for m in staff if m.role in roles),
                )
            )
        session.commit()
        return ChainSetup(
            chain.id, brand.name, setups, factories, weights(FACTORY_COUNT, DEALER_SKEW)
        )


# Placing orders


@dataclass(frozen=True)
class PlannedOrder:
    customer_id: uuid.UUID
    customer_name: str
    dealer: DealerSetup
    owner: tuple[uuid.UUID, str]
    reference: str
    items: list[ItemRequest]


def plan_orders(setup: ChainSetup, count: int, rng: random.Random) -> list[PlannedOrder]:
    """One new customer per order; 1–3 items, half of them with the factory's own reference."""
    dealers = rng.choices(setup.dealers, [d.weight for d in setup.dealers], k=count)
    factories = rng.choices(setup.factories, setup.factory_weights, k=count * 3)
    planned, next_reference = [], 0
    for index, dealer in enumerate(dealers):
        items = []
        for position in range(rng.choices((1, 2, 3), (50, 35, 15))[0]):
            factory_id, code = factories[index * 3 + position]
            factory_reference = None
            if rng.random() < 0.5:
                next_reference += 1
                factory_reference = f"{code}-{next_reference:08d}"
            items.append(
                ItemRequest(
                    factory_id=factory_id,
                    description=f"{rng.choice(PRODUCTS)} {rng.randrange(6, 40) * 100} mm",
                    quantity=rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0],
                    factory_reference=factory_reference,
                )
            )
        planned.append(
            PlannedOrder(
                customer_id=new_id(),
                customer_name=person_name(rng),
                dealer=dealer,
                owner=rng.choice(dealer.owners),
                reference=f"SO-{index + 1:07d}",
                items=items,
            )
        )
    return planned


def insert_customers(db: Database, setup: ChainSetup, planned: list[PlannedOrder]) -> None:
    now = utcnow()
    rows = [
        {"id": p.customer_id, "chain_id": setup.chain_id, "dealer_id": p.dealer.id,
         "owner_member_id": p.owner[0], "name": p.customer_name,
         "mobile": f"+86139{index:08d}", "tags": [], "notes": "", "created_at": now,
         "updated_at": now}
        for index, p in enumerate(planned)
    ]  # fmt: skip
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Customer), rows[start : start + 10_000])


class StatementCounter:
    """Every statement sent to the database, by its first word (an executemany is one)."""

    def __init__(self, db: Database):
        self.counts: Counter = Counter()
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        kind = statement.lstrip().split(None, 1)[0].upper()
        if kind != "ANALYZE":  # the bench's own, not the domain's
            self.counts[kind] += 1

    def take(self) -> Counter:
        counts, self.counts = self.counts, Counter()
        return counts


class AnalyzeStandIn:
    """What autovacuum does on PostgreSQL, for a server that has it turned off.

    Autovacuum ANALYZEs a table each time about a tenth of it has changed, and new statistics
    make every session re-plan its prepared statements. Without it, tables filled from empty
    keep, for good, the plans made while they were nearly empty (sequential scans), and placing
    orders slows down as they grow: not what a production server does. So the bench ANALYZEs,
    at the same thresholds, when the server's autovacuum is off; the time it takes is counted
    in the run's time."""

    TABLES = ("customers", "orders", "work_items", "timeline_entries", "delivery_groups",
              "group_members", "messages")  # fmt: skip

    def __init__(self, db: Database):
        self.db = db
        self.active = False
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                self.active = conn.exec_driver_sql("SHOW autovacuum").scalar() == "off"
        self.orders_then = 0
        self.runs, self.seconds = 0, 0.0

    def analyze(self, orders_now: int) -> None:
        if not self.active:
            return
        started = time.perf_counter()
        with self.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE " + ", ".join(self.TABLES))
            conn.commit()
        self.orders_then = orders_now
        self.runs += 1
        self.seconds += time.perf_counter() - started

    def after(self, orders_now: int) -> None:
        # autovacuum_analyze_threshold (50) + autovacuum_analyze_scale_factor (0.1) × rows
        if self.active and orders_now - self.orders_then >= 50 + 0.1 * self.orders_then:
            self.analyze(orders_now)


@dataclass
class PlaceRun:
    label: str
    orders: int
    seconds: float
    cpu_seconds: float
    statements: Counter
    analyzes: int = 0  # by the AnalyzeStandIn, within the run
    analyze_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


def place(
    db: Database,
    setup: ChainSetup,
    planned: list[PlannedOrder],
    *,
    batch: int,
    label: str,
    counter: StatementCounter,
    stand_in: AnalyzeStandIn,
    placed_before: int = 0,
    profiler: cProfile.Profile | None = None,
) -> PlaceRun:
    """place_order for each planned order, a session and a commit per `batch` orders."""
    counter.take()
    analyzed = stand_in.runs, stand_in.seconds
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for start in range(0, len(planned), batch):
        with db.session() as session:
            for p in planned[start : start + batch]:
                place_order(
                    session,
                    chain_id=setup.chain_id,
                    customer_id=p.customer_id,
                    dealer_id=p.dealer.id,
                    reference=p.reference,
                    items=p.items,
                )
            session.commit()
        done = start + batch
        stand_in.after(placed_before + done)
        if done % 10_000 < batch:
            elapsed = time.perf_counter() - started
            print(f"  {label}: {done:,} orders, {done / elapsed:,.0f}/s", file=sys.stderr)
    if profiler:
        profiler.disable()
    return PlaceRun(
        label,
        len(planned),
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        counter.take(),
        stand_in.runs - analyzed[0],
        stand_in.seconds - analyzed[1],
    )


def place_baseline(
    db: Database, setup: ChainSetup, planned: list[PlannedOrder], *, batch: int
) -> PlaceRun:
    """The rows the domain writes for these orders, as plain Core executemany: the ceiling."""
    counter = StatementCounter(db)
    started, cpu_started = time.perf_counter(), time.process_time()
    tables = (DeliveryGroup, GroupMember, Order, WorkItem, TimelineEntry, Message)
    for start in range(0, len(planned), batch):
        rows: dict[type, list[dict]] = {table: [] for table in tables}
        for p in planned[start : start + batch]:
            for table, row in baseline_rows(setup, p):
                rows[table].append(row)
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(insert(table), rows[table])
    return PlaceRun(
        "baseline: Core insert executemany",
        len(planned),
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        counter.take(),
    )


def baseline_rows(setup: ChainSetup, p: PlannedOrder) -> Iterator[tuple[type, dict]]:
    chain_id, dealer, now = setup.chain_id, p.dealer, utcnow()
    order_id, group_id, message_id = new_id(), new_id(), new_id()
    request_hash = hashlib.sha256(
        json.dumps(
            {"customer_id": str(p.customer_id), "dealer_id": str(dealer.id),
             "items": [[str(i.factory_id), i.description, i.quantity, i.factory_reference]
                       for i in p.items]},
            sort_keys=True,
        ).encode()
    ).hexdigest()  # fmt: skip
    yield Order, {"id": order_id, "chain_id": chain_id, "customer_id": p.customer_id,
                  "dealer_id": dealer.id, "reference": p.reference,
                  "request_hash": request_hash, "milestone": FIRST, "created_at": now,
                  "updated_at": now}  # fmt: skip
    for position, item in enumerate(p.items, start=1):
        yield WorkItem, {"id": new_id(), "chain_id": chain_id, "order_id": order_id,
                         "factory_id": item.factory_id, "position": position,
                         "description": item.description, "quantity": item.quantity,
                         "factory_reference": item.factory_reference, "milestone": FIRST,
                         "milestone_at": now, "eta": None, "created_at": now}  # fmt: skip
    yield TimelineEntry, {"id": new_id(), "chain_id": chain_id, "order_id": order_id,
                          "work_item_id": None, "milestone": FIRST, "actor": "api",
                          "occurred_at": now, "note": "", "eta": None, "late": False,
                          "created_at": now}  # fmt: skip
    values = {"customer_name": p.customer_name, "dealer_name": dealer.name,
              "owner_name": p.owner[1], "brand_name": setup.brand_name}  # fmt: skip
    seats = [None, p.owner[0]] if dealer.seat_owner else [None]
    seats += [m for m in dealer.seated_members if m != p.owner[0]]
    yield DeliveryGroup, {"id": group_id, "chain_id": chain_id, "customer_id": p.customer_id,
                          "dealer_id": dealer.id, "owner_member_id": p.owner[0],
                          "template_id": dealer.template_id,
                          "name": render(dealer.name_pattern, values)[:200],
                          "rename_locked": dealer.rename_locked,
                          "member_cap": dealer.member_cap, "member_count": len(seats),
                          "created_at": now}  # fmt: skip
    for position, member_id in enumerate(seats):
        role = "customer" if position == 0 else "owner" if member_id == p.owner[0] else "member"
        yield GroupMember, {"id": new_id(), "group_id": group_id, "member_id": member_id,
                            "role": role, "added_at": now}  # fmt: skip
    yield Message, {"id": message_id, "chain_id": chain_id, "group_id": group_id,
                    "sender": "system", "sender_member_id": None, "kind": "welcome",
                    "text": render(dealer.welcome_message, values), "payload": None,
                    "client_message_id": None, "flagged": False, "flag_reason": None,
                    "created_at": now, "planned_at": None}  # fmt: skip


def expected_rows(planned: list[PlannedOrder]) -> dict[str, int]:
    seats = 0
    for p in planned:
        seats += 1 + p.dealer.seat_owner
        seats += sum(1 for m in p.dealer.seated_members if m != p.owner[0])
    orders = len(planned)
    return {
        "orders": orders,
        "work_items": sum(len(p.items) for p in planned),
        "timeline_entries": orders,
        "delivery_groups": orders,
        "group_members": seats,
        "messages": orders,
    }


def count_placed(db: Database) -> dict[str, int]:
    tables = (Order, WorkItem, TimelineEntry, DeliveryGroup, GroupMember, Message)
    with db.session(read_only=True) as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in tables
        }


def run_placing(args) -> tuple[str, list[PlaceRun], list[str]]:
    problems: list[str] = []
    with fresh_instance(args.database_url, redis=True) as config:
        db = Database(config.sqlalchemy_url)
        database = describe_database(db)
        setup = build_chain(db, random.Random(args.seed))
        planned = plan_orders(setup, args.orders + args.single_orders, random.Random(args.seed))
        insert_customers(db, setup, planned)
        stand_in = AnalyzeStandIn(db)
        stand_in.analyze(0)
        counter = StatementCounter(db)
        profiler = cProfile.Profile() if args.profile else None
        batched, single = planned[: args.orders], planned[args.orders :]
        runs = [
            place(
                db,
                setup,
                batched,
                batch=args.batch,
                label=f"batched: place_order, commit per {args.batch}",
                counter=counter,
                stand_in=stand_in,
                profiler=profiler,
            )
        ]
        if single:
            runs.append(
                place(
                    db,
                    setup,
                    single,
                    batch=1,
                    label="one by one: place_order, commit per order",
                    counter=counter,
                    stand_in=stand_in,
                    placed_before=len(batched),
                )
            )
        found, expected = count_placed(db), expected_rows(planned)
        if found != expected:
            problems.append(f"placing: rows {found}, expected {expected}")
        db.engine.dispose()
    if profiler:
        print("\nProfile of the batched run (cumulative, top 40):", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    with fresh_instance(args.database_url, redis=False) as config:
        db = Database(config.sqlalchemy_url)
        # The same seeds: the same chain, templates, customers' names, items and seats.
        setup = build_chain(db, random.Random(args.seed))
        planned = plan_orders(setup, args.orders + args.single_orders, random.Random(args.seed))
        batched = planned[: args.orders]
        insert_customers(db, setup, batched)
        runs.append(place_baseline(db, setup, batched, batch=args.batch))
        found, expected = count_placed(db), expected_rows(batched)
        if found != expected:
            problems.append(f"baseline: rows {found}, expected {expected}")
        db.engine.dispose()
    return database, runs, problems


def report_placing(database: str, runs: list[PlaceRun]) -> None:
    print(f"Placing orders, each for a new customer (opens a delivery group): {database}")
    print(f"{'run':<46}{'orders':>9}{'seconds':>9}{'cpu s':>8}{'orders/s':>10}  statements/order")
    for run in runs:
        per_order = sum(run.statements.values()) / run.orders
        kinds = ", ".join(
            f"{kind} {n / run.orders:.2f}" for kind, n in run.statements.most_common()
        )
        print(
            f"{run.label:<46}{run.orders:>9,}{run.seconds:>9.1f}{run.cpu_seconds:>8.1f}"
            f"{run.per_second:>10,.0f}  {per_order:.1f} ({kinds})"
        )
    first, baseline = runs[0], runs[-1]
    ratio = (first.seconds / first.orders) / (baseline.seconds / baseline.orders)
    print(f"{'batched / baseline (time per order)':<46}{ratio:>9.1f}×")
    for run in runs:
        if run.analyzes:
            print(
                f"{run.label.split(':')[0]}: autovacuum is off on this server; the bench ran "
                f"ANALYZE {run.analyzes} times in its place ({run.analyze_seconds:.1f} s of "
                "the run)"
            )


# Listing orders


def uuid7_at(ms: int, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for a moment in the past (new_id() only makes them for now)."""
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    return uuid.UUID(int=value)


@dataclass
class Filled:
    orders: int
    customers: int
    work_items: int
    by_dealer: Counter = field(default_factory=Counter)
    by_dealer_milestone: Counter = field(default_factory=Counter)
    by_dealer_factory: Counter = field(default_factory=Counter)  # orders, not items
    by_factory: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def fill_listing(db: Database, setup: ChainSetup, count: int, rng: random.Random) -> Filled:
    """`count` orders over LISTING_YEARS, loaded with COPY in creation (= id) order."""
    started = time.perf_counter()
    chain_id = setup.chain_id
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    span_ms = LISTING_YEARS * 365 * 86_400_000
    dealer_weights = [d.weight for d in setup.dealers]
    customer_count = max(DEALER_COUNT, round(count * CUSTOMERS_PER_ORDER))
    customer_dealers = rng.choices(range(DEALER_COUNT), dealer_weights, k=customer_count)
    customers_of: dict[int, list[uuid.UUID]] = defaultdict(list)
    customer_rows = []
    start_time = now - timedelta(days=LISTING_YEARS * 365)
    for index, dealer_index in enumerate(customer_dealers):
        dealer = setup.dealers[dealer_index]
        customer_id = uuid7_at(now_ms - span_ms + index, rng)
        customers_of[dealer_index].append(customer_id)
        customer_rows.append(
            (customer_id, chain_id, dealer.id, rng.choice(dealer.owners)[0], person_name(rng),
             f"+86138{index:08d}", "[]", "", start_time, start_time)
        )  # fmt: skip
    # Order times: the rate grows linearly over the span (a growing brand).
    moments = sorted(
        now_ms - span_ms + int(math.sqrt(rng.random()) * span_ms) for _ in range(count)
    )
    order_dealers = rng.choices(range(DEALER_COUNT), dealer_weights, k=count)
    filled = Filled(count, customer_count, 0)
    order_rows, item_rows = [], []
    for ms, dealer_index in zip(moments, order_dealers, strict=True):
        dealer = setup.dealers[dealer_index]
        order_id = uuid7_at(ms, rng)
        created = datetime.fromtimestamp(ms / 1000, UTC)
        age_days = (now_ms - ms) / 86_400_000
        milestone = rng.choices(
            MILESTONES, next(w for days, w in MILESTONES_BY_AGE if age_days < days)
        )[0]
        order_rows.append(
            (order_id, chain_id, rng.choice(customers_of[dealer_index]), dealer.id,
             f"SO-{len(order_rows) + 1:08d}", f"{rng.getrandbits(256):064x}", milestone,
             created, created)
        )  # fmt: skip
        filled.by_dealer[dealer.id] += 1
        filled.by_dealer_milestone[dealer.id, milestone] += 1
        if rng.random() < ORDERS_WITH_ITEMS:
            factories = set()
            for position in range(1, rng.choices((1, 2, 3), (50, 35, 15))[0] + 1):
                factory_id = rng.choices(setup.factories, setup.factory_weights)[0][0]
                factories.add(factory_id)
                item_rows.append(
                    (uuid7_at(ms, rng), chain_id, order_id, factory_id, position,
                     rng.choice(PRODUCTS), 1, None, milestone, created, None, created)
                )  # fmt: skip
            for factory_id in factories:
                filled.by_dealer_factory[dealer.id, factory_id] += 1
                filled.by_factory[factory_id] += 1
    filled.work_items = len(item_rows)
    order_rows.sort(key=lambda row: row[0])
    item_rows.sort(key=lambda row: row[0])
    print(
        f"  generated {count:,} orders, {len(item_rows):,} work items, {customer_count:,} "
        f"customers in {time.perf_counter() - started:.0f} s; loading with COPY…",
        file=sys.stderr,
    )
    raw = db.engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:
            for table, columns, rows in (
                ("customers", "id, chain_id, dealer_id, owner_member_id, name, mobile, tags, "
                 "notes, created_at, updated_at", customer_rows),
                ("orders", "id, chain_id, customer_id, dealer_id, reference, request_hash, "
                 "milestone, created_at, updated_at", order_rows),
                ("work_items", "id, chain_id, order_id, factory_id, position, description, "
                 "quantity, factory_reference, milestone, milestone_at, eta, created_at",
                 item_rows),
            ):  # fmt: skip
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("customers", "orders", "work_items"):
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    filled.seconds = time.perf_counter() - started
    return filled


@dataclass
class Timing:
    label: str
    milliseconds: list[float]
    note: str = ""

    def quantile(self, q: float) -> float:
        ordered = sorted(self.milliseconds)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def timed_page(db: Database, **query) -> tuple[float, object]:
    """One call of list_orders in its own session, as a request makes it: milliseconds, page."""
    started = time.perf_counter()
    with db.session(read_only=True) as session:
        page = list_orders(session, limit=PAGE, **query)
    return (time.perf_counter() - started) * 1000, page


def walk(db: Database, **query) -> tuple[list[float], list[str | None], list[uuid.UUID]]:
    """Every page, following the cursors: the time of each, the cursor that fetched each,
    and every id returned."""
    times, cursors, ids, cursor = [], [], [], None
    while True:
        ms, page = timed_page(db, cursor=cursor, **query)
        times.append(ms)
        cursors.append(cursor)
        ids.extend(order.id for order in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return times, cursors, ids


def offset_statement(chain_id, depth: int, *, dealer_id=None, milestone=None, factory_id=None):
    """The page `depth` (0-based) of the same list, by OFFSET: what keyset pages avoid."""
    stmt = select(Order).where(Order.chain_id == chain_id)
    if dealer_id:
        stmt = stmt.where(Order.dealer_id == dealer_id)
    if milestone:
        stmt = stmt.where(Order.milestone == milestone)
    if factory_id:
        stmt = stmt.where(
            exists().where(
                WorkItem.order_id == Order.id,
                WorkItem.factory_id == factory_id,
                WorkItem.chain_id == chain_id,
            )
        )
    return stmt.order_by(Order.id.desc()).offset(depth * PAGE).limit(PAGE)


def timed_offset_page(db: Database, chain_id, depth: int, **filters) -> tuple[float, list]:
    started = time.perf_counter()
    with db.session(read_only=True) as session:
        rows = session.scalars(offset_statement(chain_id, depth, **filters)).all()
    return (time.perf_counter() - started) * 1000, rows


class StatementCapture:
    """The last SELECT sent, with its parameters, to EXPLAIN exactly what list_orders ran."""

    def __init__(self, db: Database):
        self.last: tuple[str, dict] | None = None
        event.listen(db.engine, "before_cursor_execute", self._keep)

    def _keep(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "orders" in statement:
            self.last = (statement, parameters)


def explain(db: Database, statement: str, parameters) -> list[str]:
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
        ).all()
    return [row[0] for row in plan]


@dataclass
class DepthRow:
    query: str
    page: int  # 1-based
    keyset_ms: list[float]
    offset_ms: list[float]


@dataclass
class Listing:
    filled: Filled
    timings: list[Timing] = field(default_factory=list)
    depths: list[DepthRow] = field(default_factory=list)
    plans: list[tuple[str, list[str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run_listing(args) -> tuple[str, Listing]:
    with fresh_instance(args.database_url, redis=False) as config:
        db = Database(config.sqlalchemy_url)
        database = describe_database(db)
        setup = build_chain(db, random.Random(args.seed))
        listing = Listing(fill_listing(db, setup, args.list_orders, random.Random(args.seed)))
        measure_listing(db, setup, listing, calls=args.calls)
        db.engine.dispose()
    return database, listing


def measure_listing(db: Database, setup: ChainSetup, listing: Listing, *, calls: int) -> None:
    chain_id, filled = setup.chain_id, listing.filled
    dealers = [d.id for d in setup.dealers]
    factories = [f[0] for f in setup.factories]
    name = {d.id: f"dealer {i + 1}" for i, d in enumerate(setup.dealers)}
    name.update({f[0]: f"factory {i + 1}" for i, f in enumerate(setup.factories)})
    capture = StatementCapture(db)
    # Warm the pool and the caches as a running service has them.
    for dealer_id in dealers:
        timed_page(db, chain_id=chain_id, dealer_id=dealer_id)

    def first_pages(label: str, queries: list[dict]) -> None:
        times = [timed_page(db, chain_id=chain_id, **queries[i % len(queries)])[0]
                 for i in range(calls)]  # fmt: skip
        listing.timings.append(Timing(label, times, f"{len(queries)} different lists"))

    first_pages("first page: dealer", [{"dealer_id": d} for d in dealers])
    first_pages(
        "first page: dealer + milestone",
        [{"dealer_id": d, "milestone": m} for d in dealers for m in MILESTONES],
    )
    first_pages(
        "first page: dealer + factory",
        [{"dealer_id": d, "factory_id": f} for d in dealers for f in factories],
    )
    first_pages("first page: factory", [{"factory_id": f} for f in factories])

    biggest, smallest = dealers[0], dealers[-1]
    rare = min(MILESTONES, key=lambda m: filled.by_dealer_milestone[smallest, m] or math.inf)
    walks = [
        ("dealer", {"dealer_id": biggest}, filled.by_dealer[biggest]),
        ("dealer (smallest)", {"dealer_id": smallest}, filled.by_dealer[smallest]),
        ("dealer + milestone", {"dealer_id": biggest, "milestone": "completed"},
         filled.by_dealer_milestone[biggest, "completed"]),
        ("dealer + milestone (rare)", {"dealer_id": smallest, "milestone": rare},
         filled.by_dealer_milestone[smallest, rare]),
        ("dealer + factory", {"dealer_id": biggest, "factory_id": factories[0]},
         filled.by_dealer_factory[biggest, factories[0]]),
        ("dealer + factory (small)", {"dealer_id": smallest, "factory_id": factories[-1]},
         filled.by_dealer_factory[smallest, factories[-1]]),
    ]  # fmt: skip
    for label, query, expected in walks:
        described = ", ".join(name.get(v, v) for v in query.values())
        times, cursors, ids = walk(db, chain_id=chain_id, **query)
        listing.timings.append(
            Timing(f"every page: {label}", times, f"{described}: {len(ids):,} orders")
        )
        if len(ids) != expected or len(set(ids)) != len(ids) or ids != sorted(ids, reverse=True):
            listing.problems.append(
                f"walk {label}: {len(ids):,} ids ({len(set(ids)):,} distinct, "
                f"{'in' if ids == sorted(ids, reverse=True) else 'NOT in'} order), "
                f"expected {expected:,}"
            )
        pages = len(cursors)
        middle = pages // 2 + 1
        for page in sorted(p for p in {1, 2, 10, 100, 1000, middle, pages} if p <= pages):
            row = DepthRow(label, page, [], [])
            for _ in range(20):
                ms, keyset = timed_page(db, chain_id=chain_id, cursor=cursors[page - 1], **query)
                row.keyset_ms.append(ms)
                ms, rows = timed_offset_page(db, chain_id, page - 1, **query)
                row.offset_ms.append(ms)
            if [o.id for o in keyset.items] != [o.id for o in rows]:
                listing.problems.append(f"{label}, page {page}: keyset and OFFSET pages differ")
            listing.depths.append(row)
            if page != middle:
                continue
            # The statements list_orders and the OFFSET query sent for this page, as run.
            timed_page(db, chain_id=chain_id, cursor=cursors[page - 1], **query)
            plan = explain(db, *capture.last)
            listing.plans.append((f"keyset, {label}, page {page} of {pages}", plan))
            if label == "dealer":
                timed_offset_page(db, chain_id, page - 1, **query)
                plan = explain(db, *capture.last)
                listing.plans.append((f"OFFSET, {label}, page {page} of {pages}", plan))


def report_listing(database: str, listing: Listing) -> None:
    filled = listing.filled
    print(f"Listing orders, {PAGE} a page: {database}")
    print(
        f"  {filled.orders:,} orders of {DEALER_COUNT} dealers "
        f"(largest {max(filled.by_dealer.values()):,}, "
        f"smallest {min(filled.by_dealer.values()):,}), {filled.customers:,} customers, "
        f"{filled.work_items:,} work items at {FACTORY_COUNT} factories; loaded in "
        f"{filled.seconds:.0f} s"
    )
    print(f"{'list_orders, own session per call':<40}{'calls':>7}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'max ms':>8}  what")  # fmt: skip
    for timing in listing.timings:
        print(
            f"{timing.label:<40}{len(timing.milliseconds):>7,}"
            f"{statistics.median(timing.milliseconds):>8.1f}{timing.quantile(0.99):>8.1f}"
            f"{max(timing.milliseconds):>8.1f}  {timing.note}"
        )
    print()
    print(f"{'same page, keyset vs OFFSET (20 calls)':<40}{'page':>6}  {'keyset p50/max ms':>18}"
          f"  {'OFFSET p50/max ms':>18}")  # fmt: skip
    for row in listing.depths:
        print(
            f"{row.query:<40}{row.page:>6,}  "
            f"{statistics.median(row.keyset_ms):>9.1f} / {max(row.keyset_ms):<6.1f}  "
            f"{statistics.median(row.offset_ms):>9.1f} / {max(row.offset_ms):<6.1f}"
        )
    for label, plan in listing.plans:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) {label}:")
        print("  " + "\n  ".join(plan))


# Main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL instead of the embedded default; its schema is dropped, so its name "
        "must contain 'test'",
    )
    parser.add_argument("--orders", type=int, default=100_000, help="placed in batches")
    parser.add_argument("--single-orders", type=int, default=10_000, help="placed one by one")
    parser.add_argument("--batch", type=int, default=100, help="orders per commit when batched")
    parser.add_argument(
        "--list-orders",
        type=int,
        default=1_000_000,
        help="orders to list from (PostgreSQL only; 0 skips the listing)",
    )
    parser.add_argument("--calls", type=int, default=300, help="calls per first-page figure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="profile the batched run")
    args = parser.parse_args(argv)
    if min(args.orders, args.single_orders, args.list_orders) < 0 or args.batch < 1:
        parser.error("counts must not be negative; a batch holds at least one order")
    if args.database_url and "test" not in (make_url(args.database_url).database or ""):
        parser.error("--database-url: the bench drops its schema; the name must contain 'test'")

    print(
        f"Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
        f"{os.cpu_count()} CPUs"
    )
    problems: list[str] = []
    if args.orders:
        database, runs, found = run_placing(args)
        problems += found
        print()
        report_placing(database, runs)
    if args.list_orders:
        if not args.database_url:
            print("\nListing: skipped (PostgreSQL only: give --database-url).")
        else:
            database, listing = run_listing(args)
            problems += listing.problems
            print()
            report_listing(database, listing)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if problems:
        print("\nNOT AS EXPECTED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
