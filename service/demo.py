"""The demo chain `make run` starts with: a furniture brand, 3 dealers, 2 factories. It speaks
Chinese, as the chains it stands for do: Chinese names, keywords and messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.chain.chains import create_chain, issue_api_key
from service.chain.directory_groups import ensure_path
from service.chain.members import add_member, hash_password
from service.chain.models import ApiKey, Chain, Member, Organisation
from service.chain.organisations import add_organisation
from service.chain.visibility import add_rule
from service.customers.customers import add_customer
from service.db import utcnow
from service.groups.messages import post_message
from service.groups.models import Message
from service.groups.templates import default_template
from service.orders.orders import ItemRequest, place_order
from service.progress.models import TimelineEntry
from service.progress.recording import record_progress

DEMO_CHAIN = "栖木家居 Lumen Home"
DEMO_PASSWORD = "demo-password"
DEMO_KEY = "demo key"

DEALERS = [
    ("DLR-SH-01", "栖木家居 上海浦东店", "经销商/华东/上海",
     [("李娜", "admin", "13812345601", "li.na@pudong.example"),
      ("王芳", "service_specialist", "13812345602", "wang.fang@pudong.example"),
      ("赵磊", "designer", "13812345603", None),
      ("孙强", "installer", "13812345604", None)]),
    ("DLR-HZ-01", "栖木家居 杭州西湖店", "经销商/华东/杭州",
     [("陈静", "admin", "13912345611", "chen.jing@xihu.example"),
      ("周敏", "service_specialist", "13912345612", None)]),
    ("DLR-GZ-01", "栖木家居 广州天河店", "经销商/华南/广州",
     [("黄伟", "admin", "13712345621", "huang.wei@tianhe.example"),
      ("林霞", "designer", "13712345622", None)]),
]  # fmt: skip
FACTORIES = [
    ("FAC-FS-01", "佛山板材厂", [("郭华", "coordinator", "13612345631", None)]),
    ("FAC-DG-01", "东莞框架厂", [("徐刚", "coordinator", "13512345641", None)]),
]
BRAND_MEMBERS = [("马琳", "admin", "13312345651", "ma.lin@lumen.example")]
# Paths of the directory the rules below refer to.
PRODUCTION = "生产基地"
DEALER_ROOT = "经销商"
EAST = "经销商/华东"
# What the customer asks, and what the group answers by itself.
AUTO_REPLIES = [
    {"keyword": "安装", "reply": "安装师傅会在 24 小时内与您电话联系，预约上门时间。"},
    {"keyword": "什么时候", "reply": "每到一个环节我们都会在群里告诉您，也可以随时在这里问我们。"},
]


@dataclass
class Demo:
    chain: Chain
    api_key: str
    logins: list[Member]


def seed_demo(session: Session) -> Demo:
    """Create the demo chain unless it exists. Either way, what is printed works: the
    previous demo key is revoked and a new one issued, and the logins' passwords are set."""
    chain = session.scalar(select(Chain).where(Chain.name == DEMO_CHAIN))
    created = chain is None
    if created:
        chain = _create(session)
    session.execute(
        update(ApiKey)
        .where(ApiKey.chain_id == chain.id, ApiKey.name == DEMO_KEY, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _, key = issue_api_key(session, chain_id=chain.id, name=DEMO_KEY)
    logins = _logins(session, chain.id, reset_passwords=not created)
    return Demo(chain=chain, api_key=key, logins=logins)


def _logins(session: Session, chain_id, *, reset_passwords: bool) -> list[Member]:
    """The demo's logins; with `reset_passwords`, given the demo password again (someone may
    have changed it since the demo was made)."""
    emails = [email for *_, members in (*DEALERS, *FACTORIES) for *_, email in members]
    emails += [email for *_, email in BRAND_MEMBERS]
    logins = session.scalars(
        select(Member)
        .where(
            Member.chain_id == chain_id,
            Member.email.in_([email for email in emails if email]),
            Member.removed_at.is_(None),
        )
        .order_by(Member.id)
    ).all()
    if reset_passwords:
        password_hash = hash_password(DEMO_PASSWORD)
        for member in logins:
            member.password_hash = password_hash
        session.flush()
    return list(logins)


def _create(session: Session) -> Chain:
    chain, brand = create_chain(session, name=DEMO_CHAIN)
    _add_members(session, chain.id, brand.id, BRAND_MEMBERS)
    production, _ = ensure_path(session, chain_id=chain.id, path=PRODUCTION)
    east, _ = ensure_path(session, chain_id=chain.id, path=EAST)
    for custom_id, name, path, members in DEALERS:
        group, _ = ensure_path(session, chain_id=chain.id, path=path)
        dealer, _ = add_organisation(
            session, chain_id=chain.id, kind="dealer", name=name, custom_id=custom_id,
            group_ids=[group.id],
        )  # fmt: skip
        _add_members(session, chain.id, dealer.id, members)
    for custom_id, name, members in FACTORIES:
        factory, _ = add_organisation(
            session, chain_id=chain.id, kind="factory", name=name, custom_id=custom_id,
            group_ids=[production.id],
        )  # fmt: skip
        _add_members(session, chain.id, factory.id, members)
    # East China dealers may call the factories; factories see every dealer they make for.
    dealers, _ = ensure_path(session, chain_id=chain.id, path=DEALER_ROOT)
    add_rule(session, chain_id=chain.id, viewer_group_id=east.id, visible_group_id=production.id)
    add_rule(session, chain_id=chain.id, viewer_group_id=production.id, visible_group_id=dealers.id)
    _first_order(session, chain.id)
    return chain


def _first_order(session: Session, chain_id) -> None:
    """A customer of the Pudong store whose sofa is being made by both factories."""
    dealer = session.scalar(select(Organisation).where(Organisation.custom_id == "DLR-SH-01"))
    frames, panels = (
        session.scalar(select(Organisation).where(Organisation.custom_id == custom_id))
        for custom_id in ("FAC-DG-01", "FAC-FS-01")
    )
    owner = session.scalar(
        select(Member).where(
            Member.organisation_id == dealer.id, Member.role == "service_specialist"
        )
    )
    template = default_template(session, chain_id)
    template.auto_replies = AUTO_REPLIES
    customer, _ = add_customer(
        session, chain_id=chain_id, name="张伟", mobile="13900001234",
        dealer_id=dealer.id, owner_member_id=owner.id, tags=["沙发", "VIP"],
    )  # fmt: skip
    order, group, _ = place_order(
        session, chain_id=chain_id, customer_id=customer.id, dealer_id=dealer.id,
        reference="SO-2026-0001", promised_at=utcnow() + timedelta(days=30),
        items=[
            ItemRequest(frames.id, "胡桃木沙发框架", 1, "DG-FRAME-0001"),
            ItemRequest(panels.id, "橡木饰面侧板", 2, "FS-PANEL-0001"),
        ],
    )  # fmt: skip
    frame, panel = order.items
    record_progress(session, work_item=frame, milestone="in_production", actor="demo")
    record_progress(session, work_item=panel, milestone="quality_checked", actor="demo")
    _more_customers(session, chain_id, dealer, owner, {"frames": frames, "panels": panels})
    post_message(session, group=group, text="请问什么时候可以上门安装？", sender="customer")


# More of the Pudong store's customers, each at another point of the way: (name, mobile, tags,
# reference, hours since the order, [(factory, description, quantity, ETA in days from now)],
# their story since the order, oldest first: (hours ago, item, milestone) for a factory's step,
# (hours ago, "customer" or "member", text) for a message). An ETA already passed is late.
# The hours count back from the last 17:00 of the chain's day (STORY_ENDS), so that a
# message is written at the same time of day whenever the demo is made, and the reply times
# in business hours come out the same.
MORE_CUSTOMERS = [
    ("刘洋", "13900001235", ["衣柜"], "SO-2026-0102", 400,
     [("panels", "定制衣柜门板", 6, -1)],
     [(300, 0, "designed"), (266, "customer", "门板颜色可以换成浅橡木吗？"),
      (265.7, "member", "可以，我让工厂改一下。"), (200, 0, "in_production"),
      (3, "customer", "衣柜门板是不是要晚到？我们下周就要搬家了。")]),
    ("陈晓", "13900001236", ["橱柜", "VIP"], "SO-2026-0103", 500,
     [("panels", "整体橱柜柜体", 1, None), ("frames", "岛台框架", 1, 1)],
     [(400, "customer", "岛台尺寸确认了吗？"), (386, "member", "确认了，按图纸做。"),
      (340, 0, "in_production"), (240, 1, "in_production"), (220, 0, "quality_checked"),
      (150, 0, "shipped"), (100, 1, "shipped"), (48, 0, "delivered"),
      (46, "customer", "柜体已经收到了，谢谢！"),
      (45.5, "member", "好的，安装师傅明天上午上门。")]),
    ("赵敏", "13900001237", ["床"], "SO-2026-0104", 30,
     [("frames", "实木床架", 1, 20)],
     [(1, "customer", "设计图能不能发到我邮箱 zhao.min@example.com")]),
    ("吴刚", "13900001238", ["书房"], "SO-2026-0105", 900,
     [("panels", "书柜层板", 4, None)],
     [(720, 0, "in_production"), (600, "customer", "师傅什么时候来安装？"),
      (598.5, "member", "后天上午十点到。"), (480, 0, "shipped"), (430, 0, "delivered"),
      (410, 0, "installed"), (400, 0, "completed"), (390, "customer", "书柜装得很好，很满意。"),
      (389.8, "member", "谢谢您的认可！")]),
]  # fmt: skip


# The dates promised to those customers, in days from now.
PROMISED_IN_DAYS = {"SO-2026-0102": 3, "SO-2026-0103": 2, "SO-2026-0104": 30}


STORY_ENDS = time(17)


def _more_customers(session: Session, chain_id, dealer, owner, factories) -> None:
    now = utcnow()
    local = now.astimezone(ZoneInfo(session.get(Chain, chain_id).timezone))
    ends = datetime.combine(local.date(), STORY_ENDS, tzinfo=local.tzinfo)
    if ends > now:
        ends -= timedelta(days=1)
    steps = []  # every customer's story, to be told in the order it happened
    for name, mobile, tags, reference, hours, items, story in MORE_CUSTOMERS:
        customer, _ = add_customer(
            session, chain_id=chain_id, name=name, mobile=mobile, dealer_id=dealer.id,
            owner_member_id=owner.id, tags=tags,
        )  # fmt: skip
        order, group, _ = place_order(
            session, chain_id=chain_id, customer_id=customer.id, dealer_id=dealer.id,
            reference=reference,
            promised_at=(now + timedelta(days=PROMISED_IN_DAYS[reference])
                         if reference in PROMISED_IN_DAYS else None),
            items=[ItemRequest(factories[factory].id, description, quantity)
                   for factory, description, quantity, _ in items],
        )  # fmt: skip
        placed = ends - timedelta(hours=hours)
        order.created_at = order.updated_at = placed
        for item in order.items:
            item.created_at = item.milestone_at = placed
        entries = update(TimelineEntry).where(TimelineEntry.order_id == order.id)
        session.execute(entries.values(occurred_at=placed))
        _date_new_messages(session, group, placed)
        steps += [(hours_ago, order, group, who, what) for hours_ago, who, what in story]
        for item, (*_, eta_days) in zip(order.items, items, strict=True):
            if eta_days is not None:
                item.eta = now + timedelta(days=eta_days)
    # Oldest first: message ids are time-ordered, and the portal relies on it.
    for hours_ago, order, group, who, what in sorted(steps, key=lambda step: -step[0]):
        at = ends - timedelta(hours=hours_ago)
        if isinstance(who, int):
            record_progress(
                session, work_item=order.items[who], milestone=what, actor="demo", occurred_at=at
            )
        else:
            sender_member_id = owner.id if who == "member" else None
            post_message(session, group=group, text=what, sender=who,
                         sender_member_id=sender_member_id, written_at=at)  # fmt: skip
        _date_new_messages(session, group, at)
    session.flush()


def _date_new_messages(session: Session, group, at) -> None:
    """Gives the messages the story's last step wrote the time it happened (they are written
    now, in the story's order, so their order and their times agree)."""
    session.flush()
    session.execute(
        update(Message)
        .where(Message.group_id == group.id, Message.created_at > at, Message.planned_at.is_(None))
        .values(created_at=at)
    )


def _add_members(session: Session, chain_id, organisation_id, members) -> None:
    for name, role, mobile, email in members:
        add_member(
            session, chain_id=chain_id, organisation_id=organisation_id, name=name, role=role,
            mobile=mobile, email=email, password=DEMO_PASSWORD if email else None,
        )  # fmt: skip
