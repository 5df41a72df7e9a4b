"""The delivery report over a chain of 1,000,000 orders, on PostgreSQL: server time of
GET /api/v1/reports/delivery and of the work items behind its figures, and how fast the
rollup counts new stage spans.

    python bench/reports.py [--database-url postgresql://…/chaincollab_bench]
                            [--scale 1.0] [--requests 30] [--reuse]

Seeding. The schema is dropped and rebuilt with `alembic upgrade head` (the database's name
must contain "bench" or "test"). The chain, 20 factories and 200 dealers are made through the
domain's functions; the bulk by the database (INSERT … SELECT over generate_series), for
--scale 1.0:

  customers    500,000, spread over the dealers;
  orders       1,000,000 over the last year, two work items each (2,000,000) at the factories;
               80 % promised 30 days after they were placed;
  stage spans  one per milestone each item passed by now (about 10,000,000), of durations
               drawn per factory and stage (log-normal, a median of k days for the k-th stage;
               factory 1 twice as slow); each item is left at the last milestone they reached
               (the orders' own milestone is not kept up: no report reads it);
               all of them counted in the rollup by day and by month as the job counts them
               (the same histogram, in SQL): the job keeps up within a sweep (15 s);
  late reports 20,000 timeline entries (a factory's report behind what was known).

Measuring. In process: the app from create_app() against the same database, Flask's test
client with the brand's API key, one request at a time (after 3 unmeasured); p50 / p95 / max
of --requests each, and the ratio of each p95 to the baseline's, GET /api/v1/chain, measured
in the same run. Then the rollup: 50,000 new spans are written and counted by the job's
function (jobs.reports.roll_up_stages); its rate is printed, and the report is asked again to
check that the figures it gives did not change with the rollup.

It prints the figures and never asserts on time; it exits non-zero when a request fails or the
report's figures differ before and after the rollup.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schema import check_droppable, migrated
from sqlalchemy import text
from sqlalchemy.engine import make_url

from jobs.reports import roll_up_stages
from service.app import create_app
from service.chain.chains import create_chain, issue_api_key
from service.chain.members import add_member
from service.chain.organisations import add_organisation
from service.config import Config
from service.db import Database
from service.progress.models import StageSpan
from service.reports.sketch import GAMMA

FACTORIES, DEALERS = 20, 200
CUSTOMERS, ORDERS = 500_000, 1_000_000
LATE_REPORTS = 20_000
NEW_SPANS = 50_000
MILESTONES = "ARRAY['received', 'designed', 'in_production', 'quality_checked', 'shipped', " \
             "'delivered', 'installed', 'completed']"  # fmt: skip

BULK = [
    (
        "customers",
        """
        INSERT INTO customers (id, chain_id, dealer_id, owner_member_id, name, mobile, tags,
                               notes, created_at, updated_at)
        SELECT gen_random_uuid(), :chain, dealers[1 + i % cardinality(dealers)],
               owners[1 + i % cardinality(dealers)], '客户' || i,
               '+86139' || lpad(i::text, 8, '0'), '[]'::json, '',
               now() - interval '400 days', now() - interval '400 days'
        FROM generate_series(0, :customers - 1) AS i,
             (SELECT array_agg(o.id ORDER BY o.id) AS dealers, array_agg(m.id ORDER BY o.id)
                     AS owners
              FROM organisations AS o JOIN members AS m ON m.organisation_id = o.id
              WHERE o.chain_id = :chain AND o.kind = 'dealer') AS d
        """,
    ),
    (
        "orders",
        f"""
        INSERT INTO orders (id, chain_id, customer_id, dealer_id, reference, request_hash,
                            milestone, created_at, updated_at, promised_at)
        SELECT gen_random_uuid(), :chain, c.id, c.dealer_id, 'PO-' || lpad(o.i::text, 8, '0'),
               md5(o.i::text), ({MILESTONES})[o.rank], o.at, o.at,
               CASE WHEN o.i % 5 <> 0 THEN o.at + interval '30 days' END
        FROM (SELECT i, now() - interval '365 days' + i * interval '365 days' / :orders AS at,
                     -- Older orders are further along: all of the first half completed.
                     least(8, 1 + ((:orders - i) * 16 / :orders)::int) AS rank
              FROM generate_series(0, :orders - 1) AS i) AS o
        JOIN (SELECT id, dealer_id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers)
             AS c ON c.n = o.i % :customers
        """,
    ),
    (
        "work items",
        """
        INSERT INTO work_items (id, chain_id, order_id, factory_id, position, description,
                                quantity, milestone, milestone_at, promised_at, promise_own,
                                created_at)
        SELECT gen_random_uuid(), o.chain_id, o.id,
               factories[1 + (abs(hashtext(o.reference)) + p) % cardinality(factories)], p,
               (ARRAY['衣柜 wardrobe', '橱柜 kitchen cabinet'])[p], 1, 'completed',
               o.created_at, o.promised_at, false, o.created_at
        FROM orders AS o, generate_series(1, 2) AS p,
             (SELECT array_agg(id ORDER BY id) AS factories FROM organisations
              WHERE chain_id = :chain AND kind = 'factory') AS f
        """,
    ),
    (
        "stage spans",
        f"""
        INSERT INTO stage_spans (id, chain_id, factory_id, dealer_id, work_item_id,
                                 from_milestone, to_milestone, started_at, ended_at, seconds,
                                 promise_kept, rolled)
        SELECT gen_random_uuid(), w.chain_id, w.factory_id, o.dealer_id, w.id,
               ({MILESTONES})[s.k - 1], ({MILESTONES})[s.k],
               w.created_at + (s.ended - s.seconds) * interval '1 second',
               w.created_at + s.ended * interval '1 second', s.seconds,
               CASE WHEN s.k = 6 AND w.promised_at IS NOT NULL
                    THEN w.created_at + s.ended * interval '1 second' <= w.promised_at END,
               -- All counted in the rollup below, as the job keeps it up (every sweep).
               true
        FROM work_items AS w
        JOIN orders AS o ON o.id = w.order_id,
             LATERAL (
               SELECT k, seconds, sum(seconds) OVER (ORDER BY k) AS ended
               FROM (SELECT k,
                            -- Log-normal, a median of k days; factory 1 twice as slow.
                            (86400 * k * exp(0.5 * sqrt(-2 * ln(1 - random()))
                                             * cos(2 * pi() * random()))
                             * CASE WHEN w.factory_id = :slow THEN 2 ELSE 1 END)::bigint
                              AS seconds
                     FROM generate_series(2, array_position({MILESTONES}, w.milestone::text))
                          AS k) AS d
             ) AS s
        WHERE w.created_at + s.ended * interval '1 second' < now()
        """,
    ),
    (
        "items where their stages left them",
        # Every item is on its way to completed; it is at the last milestone its stages reached
        # by now (received if none).
        """
        UPDATE work_items AS w
        SET milestone = coalesce(l.to_milestone, 'received'),
            milestone_at = coalesce(l.ended_at, w0.created_at)
        FROM work_items AS w0
        LEFT JOIN (SELECT DISTINCT ON (work_item_id) work_item_id, to_milestone, ended_at
                   FROM stage_spans ORDER BY work_item_id, ended_at DESC) AS l
          ON l.work_item_id = w0.id
        WHERE w.id = w0.id
        """,
    ),
    (
        "stage days and months",
        """
        INSERT INTO stage_days (chain_id, grain, day, factory_id, from_milestone, to_milestone,
                                count, seconds_max, histogram, promised, kept)
        WITH b AS (
            SELECT chain_id, (ended_at AT TIME ZONE 'Asia/Shanghai')::date AS day, factory_id,
                   from_milestone, to_milestone,
                   CASE WHEN seconds < 1 THEN 0
                        ELSE ceil(ln(seconds) / ln(:gamma) - 1e-9)::int + 1 END AS bucket,
                   count(*) AS n, max(seconds) AS longest, count(promise_kept) AS promised,
                   count(*) FILTER (WHERE promise_kept) AS kept
            FROM stage_spans
            GROUP BY 1, 2, 3, 4, 5, 6
        ), grains AS (
            SELECT chain_id, 'day' AS grain, day, factory_id, from_milestone, to_milestone,
                   bucket, n, longest, promised, kept FROM b
            UNION ALL
            SELECT chain_id, 'month', date_trunc('month', day)::date, factory_id,
                   from_milestone, to_milestone, bucket, sum(n), max(longest), sum(promised),
                   sum(kept)
            FROM b GROUP BY 1, 2, 3, 4, 5, 6, 7
        )
        SELECT chain_id, grain, day, factory_id, from_milestone, to_milestone, sum(n),
               max(longest), json_object_agg(bucket, n), sum(promised), sum(kept)
        FROM grains GROUP BY 1, 2, 3, 4, 5, 6
        """,
    ),
    (
        "late reports",
        """
        INSERT INTO timeline_entries (id, chain_id, order_id, work_item_id, milestone, actor,
                                      occurred_at, note, late, kind, created_at)
        SELECT gen_random_uuid(), w.chain_id, w.order_id, w.id, 'received',
               'factory:' || w.factory_id, w.created_at, '', true, 'milestone',
               w.created_at + interval '3 days'
        FROM work_items AS w TABLESAMPLE SYSTEM (2) LIMIT :late_reports
        """,
    ),
]

NEW_SPANS_SQL = """
    INSERT INTO stage_spans (id, chain_id, factory_id, dealer_id, work_item_id, from_milestone,
                             to_milestone, started_at, ended_at, seconds, promise_kept, rolled)
    SELECT gen_random_uuid(), chain_id, factory_id, dealer_id, work_item_id, from_milestone,
           to_milestone, now() - interval '1 hour' - seconds * interval '1 second',
           now() - interval '1 hour', seconds, promise_kept, false
    FROM stage_spans TABLESAMPLE SYSTEM (1) LIMIT :n
"""


def seed(db: Database, scale: float) -> tuple[dict, dict[str, float]]:
    with db.session() as session:
        chain, _ = create_chain(session, name="栖木家居 Bench Home")
        factories = [
            add_organisation(session, chain_id=chain.id, kind="factory", name=f"佛山工厂 {i}")[0]
            for i in range(1, FACTORIES + 1)
        ]
        dealers = [
            add_organisation(session, chain_id=chain.id, kind="dealer", name=f"门店 {i}")[0]
            for i in range(1, DEALERS + 1)
        ]
        for dealer in dealers:  # each its service specialist, who owns its customers
            add_member(session, chain_id=chain.id, organisation_id=dealer.id, name="专员",
                       role="service_specialist")  # fmt: skip
        session.commit()
        ids = {"chain": chain.id, "slow": factories[0].id, "factory": factories[1].id,
               "dealer": dealers[0].id}  # fmt: skip
    params = {
        **ids,
        "customers": max(100, int(CUSTOMERS * scale)),
        "orders": max(100, int(ORDERS * scale)),
        "late_reports": max(10, int(LATE_REPORTS * scale)),
        "gamma": GAMMA,
    }
    seconds = {}
    # The spans' indexes are built after their rows: kept up row by row, over random ids,
    # they made the insert take 20 minutes.
    indexes = StageSpan.__table__.indexes
    with db.engine.begin() as conn:
        for name, statement in BULK:
            began = time.perf_counter()
            if name == "stage spans":
                for index in indexes:
                    index.drop(conn)
            conn.execute(text(statement), params)
            if name == "stage spans":
                for index in indexes:
                    index.create(conn)
            seconds[name] = time.perf_counter() - began
    vacuum(db)
    return ids, seconds


def vacuum(db: Database) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def load_ids(db: Database) -> dict:
    with db.engine.connect() as conn:
        chain = conn.scalar(text("SELECT id FROM chains"))
        factories = conn.scalars(
            text("SELECT id FROM organisations WHERE kind = 'factory' ORDER BY id")
        ).all()
        dealer = conn.scalar(text("SELECT id FROM organisations WHERE kind = 'dealer' LIMIT 1"))
    return {"chain": chain, "slow": factories[0], "factory": factories[1], "dealer": dealer}


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("orders", "work_items", "stage_spans", "stage_days")
        }


def measure(client, headers, path: str, query: dict, requests: int) -> tuple[list[float], int]:
    status = 200
    for _ in range(3):
        client.get(path, query_string=query, headers=headers)
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path, query_string=query, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            status = response.status_code
    return times, status


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/chaincollab_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1,000,000 orders")
    parser.add_argument("--requests", type=int, default=30, help="measured requests each")
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
    year = {"from": days_ago(364), "to": days_ago(0)}
    stage = {"figure": "stage", "factory_id": ids["slow"], "from_milestone": "designed",
             "to_milestone": "in_production"}  # fmt: skip
    cases = [
        ("baseline: GET /api/v1/chain", "/api/v1/chain", {}),
        ("delivery, last 30 days", "/api/v1/reports/delivery", {}),
        ("delivery, a year", "/api/v1/reports/delivery", year),
        ("delivery, a year, one factory", "/api/v1/reports/delivery",
         {**year, "factory_id": ids["factory"]}),
        ("delivery, 30 days, one dealer", "/api/v1/reports/delivery", {"dealer_id": ids["dealer"]}),
        ("delivery, a year, one dealer", "/api/v1/reports/delivery",
         {**year, "dealer_id": ids["dealer"]}),
        ("delivery, a year, CSV", "/api/v1/reports/delivery", {**year, "format": "csv"}),
        ("items behind a stage, 30 days", "/api/v1/reports/delivery/work-items", stage),
        ("items late now", "/api/v1/reports/delivery/work-items", {"figure": "late_now"}),
        ("items that missed, 30 days", "/api/v1/reports/delivery/work-items",
         {"figure": "missed"}),
        ("late reports, a year", "/api/v1/reports/delivery/work-items",
         {**year, "figure": "late_events"}),
    ]  # fmt: skip
    print(f"In process (Flask test client), {args.requests} requests each after 3 unmeasured")
    print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/base':>9}")
    failed = 0
    baseline = None
    for label, path, query in cases:
        times, status = measure(client, headers, path, query, args.requests)
        base = baseline or p95(times)
        baseline = base
        failed += status != 200
        verdict = "" if status == 200 else f"  FAILED {status}"
        print(f"{label:34} {statistics.median(times):8.1f} {p95(times):8.1f} {max(times):8.1f} "
              f"{p95(times) / base:9.1f}{verdict}")  # fmt: skip

    before = client.get("/api/v1/reports/delivery", query_string=year, headers=headers).json
    with db.engine.begin() as conn:
        conn.execute(text(NEW_SPANS_SQL), {"n": NEW_SPANS})
    unrolled = client.get("/api/v1/reports/delivery", query_string=year, headers=headers).json
    began = time.perf_counter()
    counted = roll_up_stages(db)
    took = time.perf_counter() - began
    after = client.get("/api/v1/reports/delivery", query_string=year, headers=headers).json
    print(f"Rollup: {counted:,} new spans counted in {took:.1f} s ({counted / took:,.0f} a second)")
    same = unrolled == after and before != unrolled
    print("  the report's figures: " + ("the same before and after the rollup" if same
                                        else "FAILED: they changed with the rollup"))  # fmt: skip
    failed += not same
    return 1 if failed else 0


def days_ago(days: int) -> str:
    return str((datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=days)).date())


if __name__ == "__main__":
    sys.exit(main())
