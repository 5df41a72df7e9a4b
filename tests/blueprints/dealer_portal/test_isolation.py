"""A dealer's people can never open another dealer's customer, order, group, message, member or
link by its URL: every route of the portal with an id in its path is walked from the URL map
and asked for the other dealer's ids (and another chain's), and must answer as for an id that
never existed. A route added later is walked too, or this test fails saying what it needs."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from service.attachments.attachments import attach
from service.attachments.checks import check_upload
from service.attachments.files import FileStore
from service.chain.chains import create_chain
from service.chain.members import add_member
from service.customers.links import create_link
from service.groups.models import Message
from tests.attachment_files import photo
from tests.service.customers.chain_world import build_chain_world

PASSWORD = "correct horse"
# Routes whose path argument is not an id of the chain's data but a secret of its own (an
# invitation's code, a link's token, a set-password token) or a file: the token's own tests
# cover them (an unknown one opens nothing).
NOT_IDS = {"code", "token", "filename"}
# What each kind of id in a path names.
KINDS = ("customer_id", "order_id", "group_id", "member_id", "message_id", "link_id",
         "work_item_id", "attachment_id")  # fmt: skip
# Answers that open nothing: 404 (no such thing, as for any id) or a redirect to sign in.
REFUSED = {404}


def _csrf(response) -> str:
    found = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', response.text)
    return found.group(1) if found else ""


@pytest.fixture
def worlds(session, tmp_path):
    """Acme's dealer Bund Home with a customer, an order, its group and a link; the reader is
    the administrator of Acme's other dealer; a second chain with the same kinds of things."""
    acme = build_chain_world(session, "Acme Home")
    customer = acme.customer("Wang Fang")
    order, group = acme.order(customer)
    link, _ = create_link(session, chain_id=acme.id, customer_id=customer.id)
    theirs = {
        "customer_id": customer.id,
        "order_id": order.id,
        "group_id": group.id,
        "member_id": acme.owner.id,
        "message_id": _first_message(session, group.id),
        "link_id": link.id,
        "work_item_id": order.items[0].id,
        "attachment_id": _photo_in(session, group, tmp_path),
    }
    reader = add_member(
        session, chain_id=acme.id, organisation_id=acme.other_dealer.id, name="Huang Wei",
        role="admin", email="huang.wei@riverside.example", password=PASSWORD,
    )  # fmt: skip
    rival = build_chain_world(session, "Rival Living")
    rival_customer = rival.customer("Zhao Lei")
    rival_order, rival_group = rival.order(rival_customer)
    elsewhere = {
        "customer_id": rival_customer.id,
        "order_id": rival_order.id,
        "group_id": rival_group.id,
        "member_id": rival.owner.id,
        "message_id": _first_message(session, rival_group.id),
        "link_id": create_link(session, chain_id=rival.id, customer_id=rival_customer.id)[0].id,
        "work_item_id": rival_order.items[0].id,
        "attachment_id": _photo_in(session, rival_group, tmp_path),
    }
    create_chain(session, name="Nobody's")  # a chain with nothing in it, for good measure
    session.commit()
    return reader, theirs, elsewhere


def _photo_in(session, group, root):
    """A photo in the group's first message (its file under `root`)."""
    message = session.get(Message, _first_message(session, group.id))
    checked = check_upload(photo(), "photo.jpg", "image/jpeg")
    return attach(
        session, FileStore(root), message=message, checked=checked,
        uploaded_by_member_id=None, link=lambda id_: f"/portal/attachments/{id_}",
    ).id  # fmt: skip


def _first_message(session, group_id):
    return session.scalar(select(Message.id).where(Message.group_id == group_id).limit(1))


def portal_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("dealer_portal", "customer_link")
        and set(rule.arguments) - NOT_IDS
    ]


def test_every_portal_route_with_an_id_answers_404_to_another_dealers_and_chains_ids(
    app, client, worlds
):
    reader, theirs, elsewhere = worlds
    form = client.get("/portal/login")
    signed_in = client.post(
        "/portal/login",
        data={"login": reader.email, "password": PASSWORD, "csrf_token": _csrf(form)},
    )
    assert signed_in.status_code == 302
    token = _csrf(client.get("/portal/"))
    walked = []
    for rule in portal_rules(app):
        unknown = set(rule.arguments) - NOT_IDS - set(KINDS)
        assert not unknown, f"{rule.rule}: say in KINDS what {unknown} names, and give its ids"
        for ids in (theirs, elsewhere, {kind: uuid.uuid4() for kind in KINDS}):
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(ids.get(name, "x")), path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method != "GET" else None
                response = client.open(path, method=method, data=data)
                assert response.status_code in REFUSED, (method, path, response.status_code)
                walked.append((method, rule.rule))
    walked_rules = {rule for _, rule in walked}
    assert {
        "/portal/customers/<uuid:customer_id>",
        "/portal/orders/<uuid:order_id>",
        "/portal/team/<uuid:member_id>/remove",
        "/portal/attachments/<uuid:attachment_id>",
        "/c/<token>/attachments/<uuid:attachment_id>/thumbnail",
    } <= walked_rules
