"""The dealer portal's pages: server time of every page for a dealer with 10,000 customers and
their delivery groups, 10,000 orders and 1,000,000 messages, on PostgreSQL.

    python bench/portal.py [--database-url postgresql://…/chaincollab_bench]
                           [--redis-url redis://127.0.0.1:6379/14] [--scale 1.0]
                           [--requests 50] [--reuse] [--explain] [--page REGEX]

Seeding. The database's schema is dropped and rebuilt with `alembic upgrade head` (so its name
must contain "bench" or "test"). The chain, its organisations and members are made through the
domain's functions: a brand, the measured dealer with an administrator, 20 service
specialists, 10 designers, 10 installers and 2 sales people, a small second dealer, and 4
factories. The bulk is written by the database itself (INSERT … SELECT over generate_series,
with UUIDv7 ids made from each row's time, so that id order is time order as the app's ids
are), for --scale 1.0:

  customers and groups  10,000, one delivery group each (owned by one of the specialists, with
                        the customer, a designer and an installer seated), 10 % tagged "vip";
  orders                10,000 over the last year, with 1–3 work items each (20,000) at the 4
                        factories, milestones that advance with the order's age, an ETA on most
                        items (some past: late), and a timeline entry per milestone reached;
  messages              1,000,000 over the last year, spread over the groups with a power law
                        (the first groups are hot: the hottest holds 46,000, half the groups
                        fewer than 60); 30 % from customers (1 in 200 of those flagged),
                        45 % from members, 25 % notifications;
  read marks            the owner's in every group (at the group's latest message for 70 % of
                        them, some messages back otherwise), the administrator's in 1 in 10.

The specialist measured owns the hottest group. --reuse keeps a database seeded before (at the
same --scale) and only upgrades its schema: for measuring an index or a query change.

Measuring. In process: the app from create_app() against the same PostgreSQL and Redis, and
Flask's test client, one request at a time; a page's time is perf_counter around the test
client's request (routing, the view, its SQL, the template; not the socket or a WSGI server).
The pages are every GET rule of the dealer_portal and customer_link blueprints in the app's URL
map, their ids filled from the seeded data by the argument's name, so that a page added later
is measured without editing this file; a few query strings the pages take (searches, filters)
are measured too. The chat stream (/events) is measured to its first read: the app's stream
lifetime is set to 0 so that it ends after sending what it has. Each page is requested
--requests times by the administrator and by the specialist (after 3 unmeasured requests),
and p50 / p95 / max and the number of SQL statements are printed, with the ratio of each p95
to the baseline's: the sign-in page for a signed-out visitor, measured in the same run.
--explain prints EXPLAIN (ANALYZE, BUFFERS) of the three slowest statements of every page
whose p95 is over the 100 ms budget.

It prints the figures and never asserts on time; it exits non-zero when a page answers with a
server error or the database holds other than what was seeded.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image
from schema import check_droppable, migrated
from sqlalchemy import event, exists, select, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.attachments.attachments import attach
from service.attachments.checks import check_upload
from service.attachments.files import FileStore
from service.attachments.models import Attachment
from service.chain.chains import create_chain
from service.chain.invitations import create_invitation
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from service.chain.password_links import make_password_link
from service.config import Config
from service.customers.links import create_link
from service.db import Database
from service.groups.models import Message
from service.groups.templates import default_template
from service.pagination import encode_cursor

PASSWORD = "bench-password"
ADMIN_EMAIL = "admin@pudong.bench"
SPECIALIST_EMAIL = "specialist@pudong.bench"
BUDGET_MS = 100.0
CUSTOMERS = 10_000
ORDERS = 10_000
MESSAGES = 1_000_000
SPECIALISTS = 20
# The args of a rule that are not ids of the chain's data, and the rules not measured.
NOT_PAGES = {"dealer_portal.static"}
# Query strings the pages take, measured beside the bare page: (endpoint, query).
VARIANTS = [
    ("dealer_portal.customer_list", "q=王"),
    ("dealer_portal.customer_list", "q=0042"),
    ("dealer_portal.customer_list", "q=vip"),
    ("dealer_portal.customer_list", "mine=1"),
    ("dealer_portal.order_list", "late=1"),
    ("dealer_portal.order_list", "milestone=shipped"),
    ("dealer_portal.order_list", "factory={factory_id}"),
    ("dealer_portal.order_list", "customer={customer_id}"),
    ("dealer_portal.group_page", "before={old_message_cursor}"),
    ("dealer_portal.new_messages", "after={old_message_id}"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"


# Seeding


@dataclass
class Seeded:
    chain_id: uuid.UUID
    dealer_id: uuid.UUID
    factory_id: uuid.UUID
    admin_id: uuid.UUID
    specialist_id: uuid.UUID
    colleague_id: uuid.UUID
    # Filled in after the bulk: the hottest group's customer, order, group and messages.
    ids: dict[str, str] = field(default_factory=dict)


def _uuid7_function(conn) -> None:
    # A UUIDv7 from a row's time (48 bits of Unix milliseconds, version 7, random rest), as
    # service.db.new_id makes them: id order is time order.
    conn.execute(
        text(
            """
            CREATE FUNCTION pg_temp.uuid7_at(at timestamptz) RETURNS uuid AS $$
              SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0')
                      || '7' || substr(md5(random()::text), 1, 3)
                      || '8' || substr(md5(random()::text), 1, 15))::uuid
            $$ LANGUAGE sql VOLATILE
            """
        )
    )


def seed_chain(db: Database) -> Seeded:
    """Through the domain's functions, as a brand and its dealer would set up."""
    with db.session() as session:
        chain, brand = create_chain(session, name="栖木家居 Bench Home")
        add_member(session, chain_id=chain.id, organisation_id=brand.id, name="品牌 管理员",
                   role="admin", email="brand@bench.example", password=PASSWORD)  # fmt: skip
        dealer, _ = add_organisation(
            session, chain_id=chain.id, kind="dealer", name="栖木家居 上海浦东旗舰店"
        )
        other, _ = add_organisation(session, chain_id=chain.id, kind="dealer", name="苏州店")
        factories = [
            add_organisation(session, chain_id=chain.id, kind="factory", name=f"佛山工厂 {i}")[0]
            for i in range(1, 5)
        ]
        admin = add_member(session, chain_id=chain.id, organisation_id=dealer.id, name="李娜",
                           role="admin", email=ADMIN_EMAIL, password=PASSWORD)  # fmt: skip
        specialists = [
            add_member(
                session,
                chain_id=chain.id,
                organisation_id=dealer.id,
                name=f"{SURNAMES[i]}专员{i}",
                role="service_specialist",
                email=SPECIALIST_EMAIL if i == 0 else None,
                password=PASSWORD if i == 0 else None,
            )
            for i in range(SPECIALISTS)
        ]
        for role, count in (("designer", 10), ("installer", 10), ("sales", 2)):
            for i in range(count):
                add_member(session, chain_id=chain.id, organisation_id=dealer.id,
                           name=f"{SURNAMES[i]}{role[:3]}{i}", role=role)  # fmt: skip
        add_member(session, chain_id=chain.id, organisation_id=other.id, name="周店长",
                   role="admin")  # fmt: skip
        for factory in factories:
            add_member(session, chain_id=chain.id, organisation_id=factory.id, name="协调员",
                       role="coordinator")  # fmt: skip
        default_template(session, chain.id)
        session.commit()
        return Seeded(
            chain_id=chain.id,
            dealer_id=dealer.id,
            factory_id=factories[0].id,
            admin_id=admin.id,
            specialist_id=specialists[0].id,
            colleague_id=specialists[1].id,
        )


BULK = [
    (
        "customers",
        """
        INSERT INTO customers (id, chain_id, dealer_id, owner_member_id, name, mobile, tags,
                               notes, created_at, updated_at)
        SELECT pg_temp.uuid7_at(at), :chain, :dealer, owners[1 + i % cardinality(owners)],
               substr(:surnames, 1 + i % 20, 1) || '客户' || i,
               '+86139' || lpad(i::text, 8, '0'),
               CASE WHEN i % 10 = 0 THEN '["vip"]'::json ELSE '[]'::json END, '', at, at
        FROM (SELECT i, now() - interval '400 days' + i * interval '400 days' / :customers AS at,
                     (SELECT array_agg(id ORDER BY id) FROM members
                      WHERE organisation_id = :dealer AND role = 'service_specialist') AS owners
              FROM generate_series(0, :customers - 1) AS i) AS s
        """,
    ),
    (
        "delivery groups",
        """
        INSERT INTO delivery_groups (id, chain_id, customer_id, dealer_id, owner_member_id,
                                     template_id, name, rename_locked, member_cap, member_count,
                                     created_at)
        SELECT pg_temp.uuid7_at(c.created_at), c.chain_id, c.id, c.dealer_id, c.owner_member_id,
               :template, c.name || '·浦东旗舰店 交付群', false, 500, 4, c.created_at
        FROM customers AS c WHERE c.dealer_id = :dealer
        """,
    ),
    (
        "seats",
        """
        INSERT INTO group_members (id, group_id, member_id, role, added_at)
        SELECT gen_random_uuid(), g.id, seat.member_id, seat.role, g.created_at
        FROM (SELECT g.*, row_number() OVER (ORDER BY g.id) AS n FROM delivery_groups AS g
              WHERE g.dealer_id = :dealer) AS g,
             LATERAL (VALUES
               (NULL::uuid, 'customer'),
               (g.owner_member_id, 'owner'),
               ((SELECT array_agg(id ORDER BY id) FROM members WHERE organisation_id = :dealer
                 AND role = 'designer')[1 + g.n % 10], 'member'),
               ((SELECT array_agg(id ORDER BY id) FROM members WHERE organisation_id = :dealer
                 AND role = 'installer')[1 + g.n % 10], 'member')) AS seat(member_id, role)
        """,
    ),
    (
        "orders",
        """
        INSERT INTO orders (id, chain_id, customer_id, dealer_id, reference, request_hash,
                            milestone, created_at, updated_at)
        SELECT pg_temp.uuid7_at(at), :chain, c.id, :dealer, 'PO-' || lpad(o.i::text, 7, '0'),
               md5(o.i::text), (ARRAY['received', 'designed', 'in_production', 'quality_checked',
               'shipped', 'delivered', 'installed', 'completed'])[o.rank], at, at
        FROM (SELECT i, now() - interval '365 days' + i * interval '365 days' / :orders AS at,
                     least(8, greatest(1, 8 - (i * 80 / :orders) / 9 + (i % 3) - 1)) AS rank
              FROM generate_series(0, :orders - 1) AS i) AS o
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers
              WHERE dealer_id = :dealer) AS c
          ON c.n = (o.i * 7919) % :customers
        """,
    ),
    (
        "work items",
        """
        INSERT INTO work_items (id, chain_id, order_id, factory_id, position, description,
                                quantity, factory_reference, milestone, milestone_at, eta,
                                created_at)
        SELECT pg_temp.uuid7_at(o.created_at), o.chain_id, o.id,
               factories[1 + (o.n + p) % cardinality(factories)], p,
               (ARRAY['衣柜 wardrobe', '橱柜 kitchen cabinet', '书柜 bookcase'])[p + 1],
               1 + p, NULL, CASE WHEN p = 0 THEN o.milestone ELSE
               (ARRAY['received', 'designed', 'in_production', 'quality_checked', 'shipped',
                      'delivered', 'installed', 'completed'])[greatest(1, o.rank - p)] END,
               o.created_at, CASE WHEN o.n % 5 = 0 THEN NULL
                                  ELSE o.created_at + ((20 + o.n % 40) * interval '1 day') END,
               o.created_at
        FROM (SELECT o.*, row_number() OVER (ORDER BY o.id) AS n,
                     array_position(ARRAY['received', 'designed', 'in_production',
                       'quality_checked', 'shipped', 'delivered', 'installed', 'completed'],
                       o.milestone::text) AS rank,
                     (SELECT array_agg(id ORDER BY id) FROM organisations
                      WHERE chain_id = :chain AND kind = 'factory') AS factories
              FROM orders AS o WHERE o.dealer_id = :dealer) AS o,
             generate_series(0, o.n % 3) AS p
        """,
    ),
    (
        "timeline entries",
        """
        INSERT INTO timeline_entries (id, chain_id, order_id, work_item_id, milestone, actor,
                                      occurred_at, note, eta, late, created_at)
        SELECT pg_temp.uuid7_at(at), w.chain_id, w.order_id, w.id, m.name,
               'factory:' || w.factory_id, at, '', w.eta, w.eta IS NOT NULL AND at > w.eta, at
        FROM work_items AS w
        JOIN orders AS o ON o.id = w.order_id AND o.dealer_id = :dealer,
             LATERAL unnest(ARRAY['received', 'designed', 'in_production', 'quality_checked',
                                  'shipped', 'delivered', 'installed', 'completed'])
                     WITH ORDINALITY AS m(name, rank),
             LATERAL (SELECT least(now(), w.created_at + (m.rank - 1) * interval '4 days') AS at)
                     AS t
        WHERE m.rank <= array_position(ARRAY['received', 'designed', 'in_production',
                 'quality_checked', 'shipped', 'delivered', 'installed', 'completed'],
                 w.milestone::text)
        """,
    ),
    (
        "messages",
        """
        INSERT INTO messages (id, chain_id, group_id, sender, sender_member_id, kind, text,
                              flagged, flag_reason, created_at, planned_at)
        SELECT pg_temp.uuid7_at(m.at), :chain, g.id, m.sender,
               CASE WHEN m.sender = 'member' THEN g.owner_member_id END,
               CASE WHEN m.sender = 'system' THEN 'notification' ELSE 'text' END,
               CASE m.sender WHEN 'customer' THEN '请问我的衣柜什么时候安装？' || m.i
                             WHEN 'member' THEN '您好，安装师傅明天上午到，请留意电话。' || m.i
                             ELSE '进度更新：衣柜 wardrobe 已发货' END,
               m.sender = 'customer' AND m.i % 200 = 7,
               CASE WHEN m.sender = 'customer' AND m.i % 200 = 7
                    THEN 'Contains a mobile number.' END,
               m.at, m.at
        FROM (SELECT i, now() - interval '365 days' + i * interval '365 days' / :messages AS at,
                     floor(:customers * power(random(), 3))::int AS n,
                     CASE WHEN i % 20 < 6 THEN 'customer' WHEN i % 20 < 15 THEN 'member'
                          ELSE 'system' END AS sender
              FROM generate_series(0, :messages - 1) AS i) AS m
        JOIN (SELECT id, owner_member_id, row_number() OVER (ORDER BY id) - 1 AS n
              FROM delivery_groups WHERE dealer_id = :dealer) AS g ON g.n = m.n
        """,
    ),
    (
        "customers' ends",
        """
        UPDATE delivery_groups AS g
        SET first_customer_message_id = (SELECT id FROM messages WHERE group_id = g.id
                                         AND sender = 'customer' ORDER BY id LIMIT 1),
            last_customer_message_id = (SELECT id FROM messages WHERE group_id = g.id
                                        AND sender = 'customer' ORDER BY id DESC LIMIT 1)
        WHERE g.dealer_id = :dealer
        """,
    ),
    (
        "read marks",
        """
        INSERT INTO group_reads (id, member_id, group_id, message_id, read_at)
        SELECT gen_random_uuid(), r.member_id, r.group_id, r.message_id, now()
        FROM (SELECT g.owner_member_id AS member_id, g.id AS group_id,
                     (SELECT id FROM messages WHERE group_id = g.id ORDER BY id DESC
                      OFFSET CASE WHEN g.n % 10 < 7 THEN 0 ELSE g.n % 7 END LIMIT 1)
                     AS message_id
              FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM delivery_groups
                    WHERE dealer_id = :dealer) AS g
              UNION ALL
              SELECT :admin, g.id,
                     (SELECT id FROM messages WHERE group_id = g.id ORDER BY id DESC
                      OFFSET 2 LIMIT 1)
              FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM delivery_groups
                    WHERE dealer_id = :dealer) AS g
              WHERE g.n % 10 = 0) AS r
        WHERE r.message_id IS NOT NULL
        """,
    ),
]


def seed_bulk(db: Database, seeded: Seeded, scale: float) -> dict[str, float]:
    """The bulk rows, written by the database; returns the seconds each table took."""
    params = {
        "chain": seeded.chain_id,
        "dealer": seeded.dealer_id,
        "admin": seeded.admin_id,
        "surnames": SURNAMES,
        "customers": max(10, int(CUSTOMERS * scale)),
        "orders": max(10, int(ORDERS * scale)),
        "messages": max(100, int(MESSAGES * scale)),
    }
    seconds = {}
    with db.engine.begin() as conn:
        _uuid7_function(conn)
        params["template"] = conn.scalar(
            text("SELECT id FROM group_templates WHERE chain_id = :chain"), params
        )
        for name, statement in BULK:
            began = time.perf_counter()
            conn.execute(text(statement), params)
            seconds[name] = time.perf_counter() - began
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        began = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        seconds["vacuum analyze"] = time.perf_counter() - began
    return seconds


def seed_tokens(db: Database, seeded: Seeded, store: FileStore) -> None:
    """The ids and secrets the pages' URLs need: the hottest group, its customer and order,
    a message deep in its history, a photo on its latest message; a customer link, a
    set-password link, an invitation."""
    with db.session() as session:
        row = session.execute(
            text(
                """
                SELECT g.id AS group_id, g.customer_id,
                       (SELECT o.id FROM orders o WHERE o.customer_id = g.customer_id
                        ORDER BY o.id DESC LIMIT 1) AS order_id,
                       (SELECT w.id FROM work_items w JOIN orders o ON o.id = w.order_id
                        WHERE o.customer_id = g.customer_id LIMIT 1) AS work_item_id
                FROM delivery_groups g
                WHERE g.owner_member_id = :specialist
                ORDER BY (SELECT count(*) FROM messages m WHERE m.group_id = g.id) DESC
                LIMIT 1
                """
            ),
            {"specialist": seeded.specialist_id},
        ).one()
        ids = {name: str(value) for name, value in row._mapping.items()}
        ids["old_message_id"] = str(
            session.scalar(
                text(
                    "SELECT id FROM messages WHERE group_id = :g ORDER BY id DESC "
                    "OFFSET 500 LIMIT 1"
                ),
                {"g": row.group_id},
            )
            or session.scalar(
                text("SELECT id FROM messages WHERE group_id = :g LIMIT 1"), {"g": row.group_id}
            )
        )
        ids["message_id"] = ids["old_message_id"]
        ids["attachment_id"] = str(seed_photo(session, store, uuid.UUID(ids["group_id"])))
        ids["old_message_cursor"] = encode_cursor(uuid.UUID(ids["old_message_id"]))
        ids["member_id"] = str(seeded.colleague_id)
        ids["factory_id"] = str(seeded.factory_id)
        link, ids["link_token"] = create_link(
            session, chain_id=seeded.chain_id, customer_id=uuid.UUID(ids["customer_id"])
        )
        ids["link_id"] = str(link.id)
        _, ids["password_token"] = make_password_link(
            session, chain_id=seeded.chain_id, member_id=seeded.colleague_id, made_by="bench"
        )
        _, ids["code"] = create_invitation(session, chain_id=seeded.chain_id, kind="dealer")
        session.commit()
    seeded.ids = ids


def seed_photo(session, store: FileStore, group_id: uuid.UUID) -> uuid.UUID:
    """A photo, as a phone takes it, on the group's latest message without one."""
    message = session.scalar(
        select(Message)
        .where(Message.group_id == group_id, ~exists().where(Attachment.message_id == Message.id))
        .order_by(Message.id.desc())
        .limit(1)
    )
    image = io.BytesIO()
    Image.effect_noise((1600, 1200), 64).convert("RGB").save(image, "JPEG", quality=85)
    checked = check_upload(image.getvalue(), "site-photo.jpg", "image/jpeg")
    return attach(
        session, store, message=message, checked=checked, uploaded_by_member_id=None,
        link=lambda attachment_id: f"/portal/attachments/{attachment_id}",
    ).id  # fmt: skip


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("customers", "delivery_groups", "group_members", "orders",
                          "work_items", "timeline_entries", "messages", "group_reads")
        }  # fmt: skip


def load_seeded(db: Database) -> Seeded:
    """The seeded chain of an earlier run (--reuse)."""
    with db.engine.connect() as conn:
        admin = conn.execute(
            text("SELECT id, chain_id, organisation_id FROM members WHERE email = :e"),
            {"e": ADMIN_EMAIL},
        ).one()
        specialist = conn.scalar(
            text("SELECT id FROM members WHERE email = :e"), {"e": SPECIALIST_EMAIL}
        )
        colleague = conn.scalar(
            text(
                "SELECT id FROM members WHERE organisation_id = :d AND role = 'service_specialist'"
                " AND id <> :s ORDER BY id LIMIT 1"
            ),
            {"d": admin.organisation_id, "s": specialist},
        )
        factory = conn.scalar(
            text(
                "SELECT id FROM organisations WHERE chain_id = :c AND kind = 'factory' "
                "ORDER BY id LIMIT 1"
            ),
            {"c": admin.chain_id},
        )
    return Seeded(admin.chain_id, admin.organisation_id, factory, admin.id, specialist, colleague)


# Measuring


@dataclass
class Statement:
    sql: str
    parameters: object
    seconds: float


class StatementLog:
    """Every statement the app's engine sends, with its time, while `recording`."""

    def __init__(self, engine):
        self.recording = False
        self.statements: list[Statement] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_began"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording:
            began = conn.info.pop("bench_began", time.perf_counter())
            self.statements.append(Statement(statement, parameters, time.perf_counter() - began))

    @contextmanager
    def record(self) -> Iterator[list[Statement]]:
        self.statements, self.recording = [], True
        try:
            yield self.statements
        finally:
            self.recording = False


@dataclass
class Figure:
    reader: str
    page: str
    status: int
    times: list[float]  # seconds
    statements: int
    slowest: list[Statement]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _csrf(body: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', body)
    return found.group(1) if found else ""


def sign_in(client, email: str) -> None:
    form = client.get("/portal/login")
    answer = client.post(
        "/portal/login",
        data={"login": email, "password": PASSWORD, "csrf_token": _csrf(form.text)},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in as {email} answered {answer.status_code}")


def pages(app, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET page of the portal and the customer's link, from the URL
    map; an argument the seeded data has nothing for is reported and its rule left out."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        blueprint = rule.endpoint.split(".")[0]
        if blueprint not in ("dealer_portal", "customer_link") or rule.endpoint in NOT_PAGES:
            continue
        if "GET" not in rule.methods:
            continue
        values = {}
        for name in rule.arguments:
            if name == "token":
                key = "link_token" if blueprint == "customer_link" else "password_token"
            else:
                key = name
            if key not in ids:
                print(f"  not measured: {rule.rule} (nothing seeded for <{name}>)")
                break
            values[name] = ids[key]
        else:
            path = rule.rule
            for name, value in values.items():
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
            found.append((rule.endpoint, path))
    by_endpoint = dict(found)
    for endpoint, query in VARIANTS:
        if endpoint in by_endpoint:
            found.append((endpoint, f"{by_endpoint[endpoint]}?{query.format(**ids)}"))
    return found


def measure(client, log: StatementLog, reader: str, path: str, requests: int) -> Figure:
    for _ in range(3):
        client.get(path)
    times, statements, status = [], [], 200
    slowest: list[Statement] = []
    for _ in range(requests):
        with log.record() as sent:
            began = time.perf_counter()
            answer = client.get(path)
            answer.get_data()  # a stream is read to its end
            times.append(time.perf_counter() - began)
        status = answer.status_code
        statements.append(len(sent))
        if sum(s.seconds for s in sent) > sum(s.seconds for s in slowest):
            slowest = sorted(sent, key=lambda s: s.seconds, reverse=True)[:3]
    return Figure(reader, path, status, times, max(statements), slowest)


def explain(db: Database, statement: Statement) -> str:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters
        ).all()
        conn.rollback()
    return "\n".join("      " + row[0] for row in rows)


def _short(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        if name.endswith(("_id", "token")) or name == "code":
            path = path.replace(value, "{" + name.removesuffix("_id") + "}")
    return path


def report(figures: list[Figure], baseline: Figure, ids: dict[str, str]) -> int:
    base = baseline.quantile(0.95) * 1000
    print(
        f"\n{'reader':<11} {'page':<52} {'status':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'max ms':>7} {'SQL':>4} {'p95/base':>8}"
    )
    over = 0
    for f in [baseline, *figures]:
        p95 = f.quantile(0.95) * 1000
        mark = " over" if p95 > BUDGET_MS else ""
        over += bool(mark)
        print(
            f"{f.reader:<11} {_short(f.page, ids):<52} {f.status:>6} "
            f"{f.quantile(0.5) * 1000:>7.1f} {p95:>7.1f} {max(f.times) * 1000:>7.1f} "
            f"{f.statements:>4} {p95 / base:>7.1f}×{mark}"
        )
    worst = max(figures, key=lambda f: f.quantile(0.95))
    print(
        f"\nBaseline: the sign-in page, signed out, p95 {base:.1f} ms. Budget {BUDGET_MS:.0f} ms "
        f"at p95: {len(figures) - over} of {len(figures)} within; slowest p95 "
        f"{worst.quantile(0.95) * 1000:.1f} ms ({worst.reader}, {_short(worst.page, ids)})."
    )
    return over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/chaincollab_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 10,000 groups, 1M messages")
    parser.add_argument("--requests", type=int, default=50, help="measured requests per page")
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    parser.add_argument("--explain", action="store_true", help="plans of the pages over budget")
    parser.add_argument("--page", help="measure only the pages whose path matches this regex")
    args = parser.parse_args(argv)
    url = make_url(args.database_url)
    if not url.drivername.startswith("postgresql"):
        parser.error("--database-url: the portal's bench runs on PostgreSQL")
    check_droppable(parser, args.database_url)

    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    config = Config.from_env()
    migrated(config.sqlalchemy_url, fresh=not args.reuse)

    app = create_app(config)
    app.config["PORTAL_EVENTS_LIFETIME_SECONDS"] = 0.0
    db: Database = app.extensions["db"]
    began = time.perf_counter()
    if args.reuse:
        seeded = load_seeded(db)
        print("Seed: kept from an earlier run (--reuse)")
    else:
        seeded = seed_chain(db)
        seconds = seed_bulk(db, seeded, args.scale)
        print(
            f"Seed: {time.perf_counter() - began:.1f} s ("
            + ", ".join(f"{name} {s:.1f}" for name, s in seconds.items())
            + ")"
        )
    seed_tokens(db, seeded, FileStore(config.attachments_path))
    held = counts(db)
    print("  " + ", ".join(f"{name} {count:,}" for name, count in held.items()))
    failed = 0
    if not args.reuse:
        expected = {
            "customers": max(10, int(CUSTOMERS * args.scale)),
            "orders": max(10, int(ORDERS * args.scale)),
            "messages": max(100, int(MESSAGES * args.scale)),
        }
        for name, count in expected.items():
            if held[name] != count:
                print(f"  FAILED: {name} {held[name]:,}, seeded {count:,}")
                failed += 1
    with db.engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version")).split()[0]
    print(
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL "
        f"{version}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"In process (Flask test client), {args.requests} requests a page after 3 unmeasured")

    log = StatementLog(db.engine)
    walked = pages(app, seeded.ids)
    if args.page:
        walked = [(endpoint, path) for endpoint, path in walked if re.search(args.page, path)]
    with app.test_client() as visitor:
        baseline = measure(visitor, log, "signed out", "/portal/login", args.requests * 2)
    figures = []
    for reader, email in (("admin", ADMIN_EMAIL), ("specialist", SPECIALIST_EMAIL)):
        with app.test_client() as client:
            sign_in(client, email)
            for _endpoint, path in walked:
                figure = measure(client, log, reader, path, args.requests)
                figures.append(figure)
                if figure.status >= 500:
                    print(f"  FAILED: {reader} {path} answered {figure.status}")
                    failed += 1
    over = report(figures, baseline, seeded.ids)
    if args.explain:
        for figure in figures:
            if figure.quantile(0.95) * 1000 <= BUDGET_MS:
                continue
            print(f"\n{figure.reader} {_short(figure.page, seeded.ids)}: slowest statements")
            for statement in figure.slowest:
                print(f"  {statement.seconds * 1000:.1f} ms: {' '.join(statement.sql.split())}")
                print(explain(db, statement))
    print(f"\nLoad average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    del over
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
