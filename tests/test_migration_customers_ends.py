"""The migration that keeps the customer's first and latest message on their group, down and up
on a database of its own: a group that had customer messages before it gets them back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.cli import alembic_config
from service.db import make_engine
from service.groups.messages import post_message
from service.groups.models import DeliveryGroup
from tests.one_order import place_one_order
from tests.test_migration_member_emails import scratch_url  # noqa: F401 (a fixture)

BEFORE = "e7c9e1a3ef07"


def test_up_again_fills_each_group_from_its_customers_messages(scratch_url):  # noqa: F811
    alembic = alembic_config(scratch_url)
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        group = place_one_order(session, [("Foshan", "Sofa frame", 1, None)]).group
        said = [
            post_message(session, group=group, text=words, sender="customer")[0][0].id
            for words in ("Hello?", "Anyone?")
        ]
        post_message(session, group=group, text="Here", sender="member",
                     sender_member_id=group.owner_member_id)  # fmt: skip
        group_id = group.id
        session.commit()
    engine.dispose()

    command.downgrade(alembic, BEFORE)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM messages")) == 4  # with the welcome
    engine.dispose()

    command.upgrade(alembic, "head")
    with Session(engine) as session:
        refilled = session.get(DeliveryGroup, group_id)
        assert [refilled.first_customer_message_id, refilled.last_customer_message_id] == said
    engine.dispose()
