"""The service report over a chain of 500,000 delivery groups and 10,000,000 messages, on
PostgreSQL: server time of GET /api/v1/reports/service, for the whole chain, one dealer and
one member, over 30 days, 90 days and a year.

    python bench/service_report.py [--database-url postgresql://…/chaincollab_bench_service]
                                   [--scale 1.0] [--requests 20] [--reuse]

Seeding. The schema is dropped and rebuilt with `alembic upgrade head` (the database's name
must contain "bench" or "test"). The chain, 200 dealers and their 1,000 service specialists
(the groups' owners) are made through the domain's functions; the bulk by the database
(INSERT … SELECT over generate_series), for --scale 1.0:

  customers    500,000, each with their delivery group (4 seats), made over the last year;
  what 10,500,000 messages leave behind: the report reads the tallies the messages' writes
               keep (service.reports.tallies), never the messages, so the bench writes those:
               each group talks on 3 days (its first, third and fifth), 7 messages a day from
               3 writers (the customer 3, the owner 3, a colleague 1) — 4,500,000 writer-days;
               1,500,000 waits for a reply a day's 3 customer messages make (the 1st and 3rd a
               first response), log-normal about a median of 20 minutes, 4,500,000 in all, 1 %
               unanswered; the seats taken, by day and by month.

Measuring. In process, as bench/reports.py: the app from create_app() against the same
database, Flask's test client with the brand's API key, one request at a time (after 3
unmeasured); p50 / p95 / max of --requests each, and the ratio of each p95 to the baseline's,
GET /api/v1/chain, measured in the same run. It prints the figures and never asserts on time;
it exits non-zero when a request fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

from reports import days_ago, measure, p95, vacuum
from schema import check_droppable, migrated
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.chain.chains import create_chain, issue_api_key
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from service.config import Config
from service.db import Database
from service.groups.templates import default_template
from service.reports.models import ReplyWait, WriterDay
from service.reports.sketch import GAMMA

DEALERS, OWNERS_EACH = 200, 5
CUSTOMERS = 500_000
LOCAL_DAY = "(({at}) AT TIME ZONE 'Asia/Shanghai')::date"
BUCKET = "CASE WHEN {s} < 1 THEN 0 ELSE ceil(ln({s}) / ln(:gamma) - 1e-9)::int + 1 END"

BULK = [
    (
        "customers",
        """
        INSERT INTO customers (id, chain_id, dealer_id, owner_member_id, name, mobile, tags,
                               notes, created_at, updated_at)
        SELECT gen_random_uuid(), :chain, o.dealer_id, o.member_id, '客户' || i,
               '+86139' || lpad(i::text, 8, '0'), '[]'::json, '',
               now() - interval '366 days' + i * interval '365 days' / :customers,
               now() - interval '366 days' + i * interval '365 days' / :customers
        FROM generate_series(0, :customers - 1) AS i
        JOIN (SELECT m.organisation_id AS dealer_id, m.id AS member_id,
                     row_number() OVER (ORDER BY m.id) - 1 AS n
              FROM members AS m JOIN organisations AS o ON o.id = m.organisation_id
              WHERE o.chain_id = :chain AND o.kind = 'dealer') AS o
             ON o.n = i % :owners
        """,
    ),
    (
        "groups",
        """
        INSERT INTO delivery_groups (id, chain_id, customer_id, dealer_id, owner_member_id,
                                     template_id, name, rename_locked, member_cap,
                                     member_count, created_at)
        SELECT gen_random_uuid(), chain_id, id, dealer_id, owner_member_id, :template,
               name || '的家', true, 500, 4, created_at + interval '1 day'
        FROM customers WHERE chain_id = :chain
        """,
    ),
    (
        "seats",
        f"""
        INSERT INTO seat_days (chain_id, grain, day, dealer_id, owner_member_id, seats)
        SELECT chain_id, grain, day, dealer_id, owner_member_id, 4 * count(*)
        FROM (SELECT chain_id, dealer_id, owner_member_id, g.grain,
                     CASE g.grain WHEN 'day' THEN {LOCAL_DAY.format(at="created_at")}
                          ELSE date_trunc('month', {LOCAL_DAY.format(at="created_at")})::date
                     END AS day
              FROM delivery_groups, (VALUES ('day'), ('month')) AS g (grain)) AS s
        GROUP BY chain_id, grain, day, dealer_id, owner_member_id
        """,
    ),
    (
        "writer days",
        f"""
        INSERT INTO writer_days (group_id, day, writer, chain_id, dealer_id, owner_member_id,
                                 messages)
        SELECT g.id, {LOCAL_DAY.format(at="g.created_at")} + 2 * k, w.writer, g.chain_id,
               g.dealer_id, g.owner_member_id, w.messages
        FROM delivery_groups AS g, generate_series(0, 2) AS k,
             LATERAL (VALUES ('customer', 3), (g.owner_member_id::text, 3),
                             (md5(g.dealer_id::text)::uuid::text, 1)) AS w (writer, messages)
        WHERE g.created_at + 2 * k * interval '1 day' < now()
        """,
    ),
    (
        "reply waits",
        f"""
        INSERT INTO reply_waits (id, chain_id, group_id, dealer_id, owner_member_id, message_id,
                                 asked_at, asked_day, first, answered_at, answered_by,
                                 wall_seconds, business_seconds, wall_bucket, business_bucket,
                                 same_day)
        SELECT gen_random_uuid(), chain_id, group_id, dealer_id, owner_member_id,
               gen_random_uuid(), asked_at, {LOCAL_DAY.format(at="asked_at")}, first,
               CASE WHEN answered THEN asked_at + wall * interval '1 second' END,
               CASE WHEN answered THEN owner_member_id END,
               CASE WHEN answered THEN wall END, CASE WHEN answered THEN business END,
               CASE WHEN answered THEN {BUCKET.format(s="wall")} END,
               CASE WHEN answered THEN {BUCKET.format(s="business")} END,
               CASE WHEN answered THEN wall < 8 * 3600 END
        FROM (SELECT g.chain_id, g.id AS group_id, g.dealer_id, g.owner_member_id,
                     g.created_at + 2 * k * interval '1 day' + n * interval '2 hours'
                       AS asked_at,
                     n <> 1 AS first, random() > 0.01 AS answered,
                     -- log-normal about 20 minutes (Box–Muller), at least a second
                     greatest(1, round(1200 * exp(1.2 * sqrt(-2 * ln(1 - random()))
                                                   * cos(2 * pi() * random()))))::bigint
                       AS wall,
                     random() AS night
              FROM delivery_groups AS g, generate_series(0, 2) AS k, generate_series(0, 2) AS n
              WHERE g.created_at + 2 * k * interval '1 day' < now()) AS w,
             LATERAL (SELECT CASE WHEN night < 0.15 THEN greatest(0, wall - 12 * 3600)
                                  ELSE wall END AS business) AS b
        WHERE asked_at < now()
        """,
    ),
]


def seed(db: Database, scale: float) -> tuple[dict, dict[str, float]]:
    with db.session() as session:
        chain, _ = create_chain(session, name="栖木家居 Bench Home")
        dealers = [
            add_organisation(session, chain_id=chain.id, kind="dealer", name=f"门店 {i}")[0]
            for i in range(1, DEALERS + 1)
        ]
        owners = [
            add_member(session, chain_id=chain.id, organisation_id=dealer.id, name=f"专员 {n}",
                       role="service_specialist")
            for dealer in dealers
            for n in range(1, OWNERS_EACH + 1)
        ]  # fmt: skip
        template = default_template(session, chain.id)
        session.commit()
        ids = {"chain": chain.id, "dealer": dealers[0].id, "member": owners[0].id}
        params = {**ids, "template": template.id, "owners": len(owners)}
    params |= {"customers": max(100, int(CUSTOMERS * scale)), "gamma": GAMMA}
    seconds = {}
    # Their indexes built after their rows: kept up row by row the inserts take far longer.
    later = [*ReplyWait.__table__.indexes, *WriterDay.__table__.indexes]
    with db.engine.begin() as conn:
        for index in later:
            index.drop(conn)
        for name, statement in BULK:
            began = time.perf_counter()
            conn.execute(text(statement), params)
            seconds[name] = time.perf_counter() - began
        began = time.perf_counter()
        for index in later:
            index.create(conn)
        seconds["indexes"] = time.perf_counter() - began
    vacuum(db)
    return ids, seconds


def load_ids(db: Database) -> dict:
    with db.engine.connect() as conn:
        return dict(
            conn.execute(
                text("""
                SELECT (SELECT id FROM chains) AS chain,
                       (SELECT min(id::text)::uuid FROM organisations WHERE kind = 'dealer')
                         AS dealer,
                       (SELECT owner_member_id FROM delivery_groups LIMIT 1) AS member
                """)
            )
            .one()
            ._mapping
        )


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        found = {
            table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("delivery_groups", "writer_days", "reply_waits", "seat_days")
        }
        found["messages they tally"] = conn.scalar(text("SELECT sum(messages) FROM writer_days"))
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/chaincollab_bench_service",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 500,000 groups")
    parser.add_argument("--requests", type=int, default=20, help="measured requests each")
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    args = parser.parse_args(argv)
    if not make_url(args.database_url).drivername.startswith("postgresql"):
        parser.error("--database-url: the reports' bench runs on PostgreSQL")
    check_droppable(parser, args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    config = Config.from_env()
    migrated(config.sqlalchemy_url, fresh=not args.reuse)
    app = create_app(config)
    db: Database = app.extensions["db"]

    began = time.perf_counter()
    if args.reuse:
        ids = load_ids(db)
        print("Seed: kept from an earlier run (--reuse)")
    else:
        ids, seconds = seed(db, args.scale)
        print(f"Seed: {time.perf_counter() - began:.0f} s ("
              + ", ".join(f"{name} {s:.0f}" for name, s in seconds.items()) + ")")  # fmt: skip
    print("  " + ", ".join(f"{name} {n:,}" for name, n in counts(db).items()))
    with db.session() as session:
        _, key = issue_api_key(session, chain_id=ids["chain"], name="bench")
        session.commit()
    with db.engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version")).split()[0]
    print(
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL "
        f"{version}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    path = "/api/v1/reports/service"
    quarter = {"from": days_ago(89), "to": days_ago(0)}
    year = {"from": days_ago(364), "to": days_ago(0)}
    cases = [
        ("baseline: GET /api/v1/chain", "/api/v1/chain", {}),
        ("service, last 30 days", path, {}),
        ("service, 90 days", path, quarter),
        ("service, a year", path, year),
        ("service, 30 days, one dealer", path, {"dealer_id": ids["dealer"]}),
        ("service, a year, one dealer", path, {**year, "dealer_id": ids["dealer"]}),
        ("service, a year, one member", path, {**year, "member_id": ids["member"]}),
        ("service, a year, CSV by member", path, {**year, "format": "csv"}),
    ]
    print(f"In process (Flask test client), {args.requests} requests each after 3 unmeasured")
    print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/base':>9}")
    failed = 0
    baseline = None
    for label, url, query in cases:
        times, status = measure(client, headers, url, query, args.requests)
        baseline = baseline or p95(times)
        failed += status != 200
        verdict = "" if status == 200 else f"  FAILED {status}"
        print(f"{label:34} {statistics.median(times):8.1f} {p95(times):8.1f} {max(times):8.1f} "
              f"{p95(times) / baseline:9.1f}{verdict}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
