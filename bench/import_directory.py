"""Bulk import of a chain's shared directory, and the ceiling a plain bulk INSERT reaches.

    python bench/import_directory.py [--organisations 10000] [--members-per-org 5]
                                     [--database-url postgresql://…/chaincollab_test] [--profile]

Builds a fresh instance in a temporary directory (the embedded default: SQLite file and embedded
Redis; or the PostgreSQL database given, whose schema is dropped and rebuilt), migrates it with
Alembic, creates a chain and writes a CSV of dealers and factories with their members and
directory group paths, plus a few deliberately bad rows. Then it measures, in one run:

  import      `chain import FILE`, invoked in-process: read, check, match, insert, commit;
  re-import   the same file again: nothing may be created or changed;
  changed     the file again with every member's role changed: every organisation is updated;
  baseline    the same groups, organisations, placements and members written with SQLAlchemy Core
              `insert()` executemany into another fresh database: no checks, no matching.

It prints the figures, the ratio import / baseline, and the row counts found after each step. It
never asserts on time; it exits non-zero when an import reports, or the database holds, other
than what the file implies.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import platform
import pstats
import random
import resource
import sqlite3
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy
from flask import Flask
from schema import migrated
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.chain.chains import create_chain
from service.chain.import_files import CSV_COLUMNS, rows_from_csv
from service.chain.models import (
    DirectoryGroup,
    Import,
    Member,
    Organisation,
    OrganisationGroup,
)
from service.config import Config
from service.db import Database, new_id, utcnow
from service.redis_server import ensure_embedded_redis, stop_embedded_redis

# The directory a national furniture brand might keep: dealers by region, city and district,
# factories by production base and line. (english, chinese) pairs; the tree is ~100 groups.
DEALER_REGIONS = {
    "East": {
        ("Shanghai", "上海"): [("Pudong", "浦东"), ("Minhang", "闵行"), ("Xuhui", "徐汇"),
                               ("Jiading", "嘉定")],
        ("Hangzhou", "杭州"): [("Xihu", "西湖"), ("Binjiang", "滨江"), ("Yuhang", "余杭")],
        ("Nanjing", "南京"): [("Gulou", "鼓楼"), ("Jianye", "建邺"), ("Jiangning", "江宁")],
        ("Suzhou", "苏州"): [("Gusu", "姑苏"), ("Wuzhong", "吴中"), ("Kunshan", "昆山")],
    },
    "North": {
        ("Beijing", "北京"): [("Chaoyang", "朝阳"), ("Haidian", "海淀"), ("Fengtai", "丰台"),
                              ("Tongzhou", "通州")],
        ("Tianjin", "天津"): [("Heping", "和平"), ("Nankai", "南开"), ("Binhai", "滨海")],
        ("Jinan", "济南"): [("Lixia", "历下"), ("Shizhong", "市中")],
        ("Qingdao", "青岛"): [("Shinan", "市南"), ("Laoshan", "崂山"), ("Huangdao", "黄岛")],
    },
    "South": {
        ("Guangzhou", "广州"): [("Tianhe", "天河"), ("Yuexiu", "越秀"), ("Panyu", "番禺"),
                                ("Baiyun", "白云")],
        ("Shenzhen", "深圳"): [("Futian", "福田"), ("Nanshan", "南山"), ("Longgang", "龙岗"),
                               ("Baoan", "宝安")],
        ("Xiamen", "厦门"): [("Siming", "思明"), ("Huli", "湖里")],
        ("Nanning", "南宁"): [("Qingxiu", "青秀"), ("Xixiangtang", "西乡塘")],
    },
    "West": {
        ("Chengdu", "成都"): [("Jinjiang", "锦江"), ("Wuhou", "武侯"), ("Gaoxin", "高新")],
        ("Chongqing", "重庆"): [("Yuzhong", "渝中"), ("Jiangbei", "江北"), ("Yubei", "渝北")],
        ("Xian", "西安"): [("Yanta", "雁塔"), ("Beilin", "碑林")],
        ("Kunming", "昆明"): [("Wuhua", "五华"), ("Panlong", "盘龙")],
    },
    "Central": {
        ("Wuhan", "武汉"): [("Jianghan", "江汉"), ("Wuchang", "武昌"), ("Hongshan", "洪山")],
        ("Changsha", "长沙"): [("Yuelu", "岳麓"), ("Furong", "芙蓉"), ("Tianxin", "天心")],
        ("Zhengzhou", "郑州"): [("Jinshui", "金水"), ("Zhongyuan", "中原")],
    },
}  # fmt: skip
FACTORY_BASES = {
    ("Foshan", "佛山"): [("Panels", "板材"), ("Cabinets", "橱柜"), ("Hardware", "五金")],
    ("Dongguan", "东莞"): [("Upholstery", "软体"), ("Frames", "框架")],
    ("Chengdu", "成都"): [("Panels", "板材"), ("Doors", "木门")],
    ("Tianjin", "天津"): [("Panels", "板材"), ("Glass", "玻璃")],
}
KEY_ACCOUNTS = "Key accounts"
STORE_KINDS = ("旗舰店", "体验店", "专卖店", "家居馆", "设计中心")
SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
            ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
            ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
            ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo")]  # fmt: skip
GIVEN_NAMES = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"),
               ("静", "jing"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"),
               ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
               ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"),
               ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("晨", "chen")]  # fmt: skip
DEALER_ROLES = ("admin", "service_specialist", "designer", "installer", "sales")
FACTORY_ROLES = ("admin", "coordinator", "coordinator", "sales", "service_specialist")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "180",
                   "181", "182", "183", "185", "186", "187", "188", "189", "199")  # fmt: skip
FACTORY_SHARE = 0.2
# The role each member has in the re-import that changes every member.
NEW_ROLE = {
    "admin": "sales",
    "service_specialist": "designer",
    "designer": "installer",
    "installer": "service_specialist",
    "sales": "admin",
    "coordinator": "admin",
}


# The file


@dataclass
class Person:
    name: str
    role: str
    mobile: str  # as written in the file
    e164: str | None  # as it must be stored; None for a deliberately bad contact
    email: str | None


@dataclass
class Org:
    custom_id: str
    kind: str
    name: str
    groups: list[str]
    members: list[Person] = field(default_factory=list)
    bad_members: list[Person] = field(default_factory=list)


@dataclass
class Directory:
    organisations: list[Org]  # the good ones, every member of which must go in
    bad_organisations: list[Org]  # rows that must fail as a whole

    @property
    def group_paths(self) -> list[str]:
        """Every node of the tree the file names, parents first."""
        nodes: dict[str, None] = {}
        for org in self.organisations:
            for path in org.groups:
                parts = path.split("/")
                for depth in range(1, len(parts) + 1):
                    nodes["/".join(parts[:depth])] = None
        return list(nodes)

    @property
    def dealers(self) -> int:
        return sum(1 for org in self.organisations if org.kind == "dealer")

    @property
    def factories(self) -> int:
        return len(self.organisations) - self.dealers

    @property
    def members(self) -> int:
        return sum(len(org.members) for org in self.organisations)

    @property
    def placements(self) -> int:
        return sum(len(org.groups) for org in self.organisations)

    @property
    def bad_contacts(self) -> int:
        return sum(len(org.bad_members) for org in self.organisations)


class _Numbers:
    """Unique, valid mainland mobiles, written the ways people write them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> tuple[str, str]:
        while True:
            digits = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if digits not in self.used:
                self.used.add(digits)
                break
        style = self.rng.random()
        if style < 0.7:
            written = digits
        elif style < 0.9:
            written = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        else:
            written = f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
        return written, "+86" + digits


def make_directory(organisations: int, members_per_org: int, seed: int) -> Directory:
    rng = random.Random(seed)
    numbers = _Numbers(rng)
    dealer_places = [
        (f"Dealers/{region}/{city}/{district}", city_zh + district_zh)
        for region, cities in DEALER_REGIONS.items()
        for (city, city_zh), districts in cities.items()
        for district, district_zh in districts
    ]
    factory_places = [
        (f"Factories/{base}/{line}", f"{base_zh}{line_zh}")
        for (base, base_zh), lines in FACTORY_BASES.items()
        for line, line_zh in lines
    ]
    factories = round(organisations * FACTORY_SHARE)
    orgs: list[Org] = []
    email_seq = 0
    for index in range(organisations):
        if index % round(1 / FACTORY_SHARE) == 0 and factories:
            factories -= 1
            path, place = rng.choice(factory_places)
            org = Org(f"F-{index + 1:05d}", "factory", f"{place}生产基地 {index + 1}号线", [path])
            roles = FACTORY_ROLES
        else:
            path, place = rng.choice(dealer_places)
            store = rng.choice(STORE_KINDS)
            org = Org(f"D-{index + 1:05d}", "dealer", f"{place}{store} {index + 1}", [path])
            if rng.random() < 0.05:
                org.groups.append(KEY_ACCOUNTS)
            roles = DEALER_ROLES
        domain = f"{org.custom_id.lower()}.example.com"
        names: set[str] = set()
        for position in range(members_per_org):
            while True:
                (surname, surname_py), (given, given_py) = (
                    rng.choice(SURNAMES),
                    rng.choice(GIVEN_NAMES),
                )
                if surname + given not in names:
                    names.add(surname + given)
                    break
            written, e164 = numbers.next()
            email = None
            if rng.random() < 0.7:
                email_seq += 1
                email = f"{given_py}.{surname_py}{email_seq}@{domain}"
            org.members.append(
                Person(surname + given, roles[position % len(roles)], written, e164, email)
            )
        orgs.append(org)
    _spoil_some_contacts(orgs, numbers, rng)
    return Directory(orgs, _bad_organisations(numbers))


def _spoil_some_contacts(orgs: list[Org], numbers: _Numbers, rng: random.Random) -> None:
    """A handful of bad contacts added to good rows: each must be reported, and must not keep
    the organisation or its other members out. An e-mail reused from an earlier organisation
    (another chunk, for the first one) must be refused, not taken away from its owner."""
    earlier_emails = [m.email for org in orgs[: len(orgs) // 2] for m in org.members if m.email]
    bad = [
        ("mobile", "1381234"),
        ("mobile", "12345678901"),
        ("mobile", "ask at reception"),
        ("email", "li.wei(at)example.com"),
        ("email", "wang@@example.com"),
        ("role", "manager"),
        ("role", ""),
        ("name", ""),
        ("duplicate email", earlier_emails[0] if earlier_emails else None),
        ("duplicate email", rng.choice(earlier_emails) if earlier_emails else None),
        ("mobile", "+86 000"),
        ("email", "no-at-sign.example.com"),
    ]
    bad = [(what, value) for what, value in bad if value is not None or what != "duplicate email"]
    for number, (what, value) in enumerate(bad, start=1):
        org = orgs[min(len(orgs) - 1, len(orgs) // 2 + number * len(orgs) // (2 * len(bad) + 2))]
        written, _ = numbers.next()
        person = Person(f"错误联系人{number}", "sales", written, None, None)
        if what == "mobile":
            person.mobile = value
        elif what in ("email", "duplicate email"):
            person.email = value
        elif what == "role":
            person.role = value
        else:
            person.name = value
        org.bad_members.append(person)


def _bad_organisations(numbers: _Numbers) -> list[Org]:
    rows = [
        Org("X-00001", "distributor", "未知类型的经销商", ["Dealers/East"]),
        Org("X-00002", "dealer", "", ["Dealers/East"]),
        Org("X-00003", "dealer", "路径错误的门店", ["Dealers//East"]),
    ]
    for org in rows:
        written, e164 = numbers.next()
        org.members.append(Person("赵敏", "admin", written, e164, None))
    return rows


def write_csv(directory: Directory, path: Path, *, new_roles: bool = False) -> int:
    """One line per member, the organisation's columns repeated on each. `new_roles` gives
    every good member another role: a re-import that must update every one of them.
    Returns the lines written."""
    lines = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for org in [*directory.organisations, *directory.bad_organisations]:
            head = [org.custom_id, org.kind, org.name, ";".join(org.groups)]
            for person in org.members:
                role = NEW_ROLE[person.role] if new_roles else person.role
                writer.writerow([*head, person.name, role, person.mobile, person.email or ""])
                lines += 1
            for person in org.bad_members:
                writer.writerow(
                    [*head, person.name, person.role, person.mobile, person.email or ""]
                )
                lines += 1
    return lines


def roles_after(directory: Directory, *, new_roles: bool) -> Counter:
    return Counter(
        NEW_ROLE[person.role] if new_roles else person.role
        for org in directory.organisations
        for person in org.members
    )


# Instances


@contextmanager
def fresh_instance(database_url: str | None, *, redis: bool) -> Iterator[Config]:
    """A migrated, empty instance: the embedded default in a temporary directory, or the given
    PostgreSQL database with its schema dropped and rebuilt. `redis` starts the embedded Redis,
    as it runs beside a real instance, though the import does not use it."""
    with tempfile.TemporaryDirectory(prefix="chain-collab-bench-") as instance:
        os.environ["INSTANCE_PATH"] = instance
        os.environ.pop("REDIS_URL", None)
        if database_url:
            os.environ["DATABASE_URL"] = database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        config = Config.from_env()
        migrated(config.sqlalchemy_url)
        if redis:
            ensure_embedded_redis(config.instance_path)
        try:
            yield config
        finally:
            if redis:
                stop_embedded_redis(config.instance_path)


def new_chain(db: Database) -> str:
    with db.session() as session:
        chain, _ = create_chain(session, name="Acme Home 爱克美家居")
        session.commit()
        return str(chain.id)


# Measurements


@dataclass
class Counts:
    organisations: int
    members: int
    placements: int
    groups: int
    roles: Counter = field(default_factory=Counter, compare=False)


def count_rows(db: Database, chain_id: str) -> Counts:
    chain = uuid.UUID(chain_id)
    with db.session() as session:
        in_chain = select(Organisation.id).where(
            Organisation.chain_id == chain, Organisation.kind != "brand"
        )
        return Counts(
            organisations=session.scalar(select(func.count()).select_from(in_chain.subquery())),
            members=session.scalar(
                select(func.count()).select_from(Member).where(Member.chain_id == chain)
            ),
            placements=session.scalar(
                select(func.count())
                .select_from(OrganisationGroup)
                .where(OrganisationGroup.organisation_id.in_(in_chain))
            ),
            groups=session.scalar(
                select(func.count())
                .select_from(DirectoryGroup)
                .where(DirectoryGroup.chain_id == chain)
            ),
            roles=Counter(
                dict(
                    session.execute(
                        select(Member.role, func.count())
                        .where(Member.chain_id == chain)
                        .group_by(Member.role)
                    ).all()
                )
            ),
        )


def last_import(db: Database) -> Import:
    with db.session() as session:
        return session.scalars(select(Import).order_by(Import.id.desc()).limit(1)).one()


@dataclass
class Step:
    label: str
    seconds: float
    cpu_seconds: float
    record: Import | None = None  # None for the baseline
    counts: Counts | None = None


def run_cli_import(app: Flask, label: str, chain_id: str, csv_path: Path, profile: bool) -> Step:
    runner = app.test_cli_runner()
    args = ["chain", "import", str(csv_path), "--chain", chain_id]
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = runner.invoke(args=args)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if result.exit_code != 0:
        if result.exc_info:
            traceback.print_exception(*result.exc_info)
        sys.exit(f"chain import failed ({result.exit_code}):\n{result.output}{result.exception!r}")
    if profiler:
        print("\nProfile of the import (cumulative, top 25):", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    return Step(label, elapsed, cpu, last_import(app.extensions["db"]))


def run_baseline(db: Database, chain_id: str, directory: Directory) -> Step:
    """The same rows as the import writes, as plain Core executemany: the ceiling."""
    chain = uuid.UUID(chain_id)
    engine = db.engine
    started, cpu_started = time.perf_counter(), time.process_time()
    now = utcnow()
    groups: dict[str, dict] = {}
    for path in directory.group_paths:
        parent, _, name = path.rpartition("/")
        groups[path] = {"id": new_id(), "chain_id": chain, "name": name, "path": path,
                        "parent_id": groups[parent]["id"] if parent else None,
                        "created_at": now}  # fmt: skip
    organisations, placements, members = [], [], []
    for org in directory.organisations:
        org_id = new_id()
        organisations.append({"id": org_id, "chain_id": chain, "kind": org.kind,
                              "name": org.name, "custom_id": org.custom_id,
                              "created_at": now})  # fmt: skip
        placements.extend(
            {"organisation_id": org_id, "group_id": groups[path]["id"]} for path in org.groups
        )
        members.extend(
            {"id": new_id(), "chain_id": chain, "organisation_id": org_id, "name": person.name,
             "role": person.role, "mobile": person.e164, "email": person.email,
             "created_at": now}
            for person in org.members
        )  # fmt: skip
    with engine.begin() as conn:
        for table, rows in (
            (DirectoryGroup, list(groups.values())),
            (Organisation, organisations),
            (OrganisationGroup, placements),
            (Member, members),
        ):
            if rows:
                conn.execute(insert(table), rows)
    return Step(
        "baseline: Core insert executemany",
        time.perf_counter() - started,
        time.process_time() - cpu_started,
    )


# Report


def describe_database(db: Database) -> str:
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL) + embedded Redis"
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version")).split()[0]
    url = make_url(str(engine.url))
    return f"PostgreSQL {version} ({url.host}/{url.database}, psycopg)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--members-per-org", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="measure against this PostgreSQL database instead of the embedded default; "
        "its schema is dropped, so its name must contain 'test'",
    )
    parser.add_argument("--profile", action="store_true", help="profile the first import")
    args = parser.parse_args(argv)
    if args.organisations < 1 or args.members_per_org < 1:
        parser.error("at least one organisation, with at least one member")
    if args.database_url and "test" not in (make_url(args.database_url).database or ""):
        parser.error("--database-url: the bench drops its schema; the name must contain 'test'")

    directory = make_directory(args.organisations, args.members_per_org, args.seed)
    with tempfile.TemporaryDirectory(prefix="chain-collab-bench-file-") as folder:
        csv_path, changed_path = Path(folder) / "directory.csv", Path(folder) / "changed.csv"
        lines = write_csv(directory, csv_path)
        write_csv(directory, changed_path, new_roles=True)
        size_mb = csv_path.stat().st_size / 1e6
        started = time.perf_counter()
        rows_from_csv(csv_path.read_text(encoding="utf-8-sig"))
        parse_seconds = time.perf_counter() - started

        steps: list[Step] = []
        with fresh_instance(args.database_url, redis=True) as config:
            # One app per process: create_app registers module-level blueprints.
            app = create_app(config)
            db = app.extensions["db"]
            database = describe_database(db)
            chain_id = new_chain(db)
            for label, path, profile in (
                ("import (chain import FILE)", csv_path, args.profile),
                ("re-import, same file", csv_path, False),
                ("re-import, every role changed", changed_path, False),
            ):
                steps.append(run_cli_import(app, label, chain_id, path, profile))
                steps[-1].counts = count_rows(db, chain_id)
            db.engine.dispose()
        with fresh_instance(args.database_url, redis=False) as config:
            db = Database(config.sqlalchemy_url)
            chain_id = new_chain(db)
            steps.append(run_baseline(db, chain_id, directory))
            steps[-1].counts = count_rows(db, chain_id)
            db.engine.dispose()

    print(
        f"Bulk import: {len(directory.organisations):,} organisations "
        f"({directory.dealers:,} dealers, {directory.factories:,} factories), "
        f"{directory.members:,} members, {len(directory.group_paths)} directory groups, "
        f"{directory.placements:,} placements"
    )
    print(
        f"  + {len(directory.bad_organisations)} bad organisation rows and "
        f"{directory.bad_contacts} bad contacts; CSV {lines:,} lines, {size_mb:.1f} MB "
        f"(reading it: {parse_seconds:.2f} s)"
    )
    print(
        f"  {database}; Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
        f"{os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )
    print()
    report(directory, steps)
    problems = check_steps(directory, steps)
    if problems:
        print("\nNOT AS EXPECTED:\n  " + "\n  ".join(problems))
        return 1
    return 0


def report(directory: Directory, steps: list[Step]) -> None:
    orgs, members = len(directory.organisations), directory.members
    print(f"{'step':<34}{'seconds':>8}{'cpu s':>8}{'orgs/s':>8}{'members/s':>11}  outcome")
    for step in steps:
        if step.record is None:
            outcome = "no checks, no matching; good rows only"
        else:
            outcome = (
                f"{step.record.created:,} created, {step.record.updated:,} updated, "
                f"{step.record.unchanged:,} unchanged, {step.record.failed:,} failed, "
                f"{len(step.record.errors)} errors"
            )
        print(
            f"{step.label:<34}{step.seconds:>8.2f}{step.cpu_seconds:>8.2f}"
            f"{orgs / step.seconds:>8,.0f}{members / step.seconds:>11,.0f}  {outcome}"
        )
    first, baseline = steps[0], steps[-1]
    print(f"{'import / baseline':<34}{first.seconds / baseline.seconds:>7.1f}×")
    print()
    for step in steps:
        counts = step.counts
        print(
            f"rows after {step.label.split(':')[0].split(' (')[0] + ':':<31}"
            f"{counts.organisations:,} organisations, {counts.members:,} members, "
            f"{counts.placements:,} placements, {counts.groups} groups"
        )
    by_field = Counter(error["field"] for error in first.record.errors)
    print("errors by field: " + ", ".join(f"{name} {n}" for name, n in sorted(by_field.items())))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:,.0f} MB")


def check_steps(directory: Directory, steps: list[Step]) -> list[str]:
    """What the database holds and what each import reported, against what the file says."""
    orgs, bad_orgs = len(directory.organisations), len(directory.bad_organisations)
    want_errors = bad_orgs + directory.bad_contacts
    expected = Counts(orgs, directory.members, directory.placements, len(directory.group_paths))
    problems = []
    # (created, updated, unchanged, failed) each import must report; roles the members have after.
    outcomes = [
        ((orgs, 0, 0, bad_orgs), roles_after(directory, new_roles=False)),
        ((0, 0, orgs, bad_orgs), roles_after(directory, new_roles=False)),
        ((0, orgs, 0, bad_orgs), roles_after(directory, new_roles=True)),
        (None, roles_after(directory, new_roles=False)),
    ]
    for step, (want, roles) in zip(steps, outcomes, strict=True):
        if step.counts != expected:
            problems.append(f"{step.label}: rows {step.counts}, expected {expected}")
        if step.counts.roles != roles:
            problems.append(
                f"{step.label}: roles {dict(step.counts.roles)}, expected {dict(roles)}"
            )
        if step.record is None:
            continue
        record = step.record
        found = (record.created, record.updated, record.unchanged, record.failed)
        if found != want:
            problems.append(f"{step.label}: created/updated/unchanged/failed {found}, not {want}")
        if len(record.errors) != want_errors:
            problems.append(f"{step.label}: {len(record.errors)} errors, not {want_errors}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
