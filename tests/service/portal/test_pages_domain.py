"""The portal's customers and orders as the domain gives them: a late work item, tags on
both backends, and one customer handed to another owner with their group."""

from datetime import timedelta

from sqlalchemy import select

from service.customers.handovers import change_owner
from service.customers.models import Customer
from service.db import utcnow
from service.groups.groups import group_of_customer, seats
from service.groups.models import Message
from service.orders.models import WorkItem
from service.portal.access import Reader
from service.portal.customers import has_tag, search_customers
from service.portal.orders import is_late, late
from tests.blueprints.dealer_portal.pages_world import build_world


def test_a_work_item_is_late_when_its_eta_has_passed_and_it_is_not_completed(session):
    world = build_world(session)
    frame, cushions = world.orders["SO-1"].items
    now = utcnow()
    assert is_late(frame, now) and not is_late(cushions, now)
    assert not is_late(world.orders["SO-2"].items[0], now)  # no ETA given: never late
    found = set(session.scalars(select(WorkItem.id).where(late(now))))
    assert found == {frame.id}
    frame.milestone = "completed"
    session.flush()
    assert not is_late(frame, now)
    assert set(session.scalars(select(WorkItem.id).where(late(now)))) == set()
    assert set(session.scalars(select(WorkItem.id).where(late(now + timedelta(days=5))))) == {
        cushions.id
    }


def test_a_tag_is_found_whole_on_either_backend(session):
    build_world(session)
    names = lambda tag: set(  # noqa: E731
        session.scalars(select(Customer.name).where(has_tag(session, tag)))
    )
    assert names("vip") == {"Zhang San", "Zhao Lei"}
    assert names("vi") == set() and names("VIP") == set()


def test_search_is_narrowed_by_what_the_reader_may_see(session):
    world = build_world(session)
    admin = Reader.of(world.members["admin"])
    page = search_customers(session, admin, query="vip")
    assert [c.name for c in page.items] == ["Zhang San"]


def test_changing_the_owner_moves_the_customer_their_group_and_its_seat(session):
    world = build_world(session)
    zhang, admin, specialist = (
        world.customers["zhang"], world.members["admin"], world.members["specialist"]
    )  # fmt: skip
    group = group_of_customer(session, zhang.id)
    before = group.member_count

    change_owner(session, chain_id=zhang.chain_id, customer_id=zhang.id,
                 to_member_id=specialist.id, actor="test")  # fmt: skip

    assert session.get(Customer, zhang.id).owner_member_id == specialist.id
    group = group_of_customer(session, zhang.id)
    assert group.owner_member_id == specialist.id
    roles = {seat.member_id: seat.role for seat in seats(session, group.id)}
    assert roles.get(specialist.id) == "owner" and admin.id not in roles
    assert group.member_count == before
    notice = session.scalars(
        select(Message).where(Message.group_id == group.id).order_by(Message.id.desc())
    ).first()
    assert notice.kind == "notice" and "Wang Fang" in notice.text
    # The other customers of the previous owner stay theirs.
    assert world.customers["chen"].owner_member_id == specialist.id
