"""POST /webhooks/factories/{id}/progress: Standard Webhooks signatures, idempotency, limits."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from service.chain.organisations import rotate_webhook_secret
from service.groups.models import Message
from service.notify.models import OutboxEvent
from service.orders.models import WorkItem
from service.progress.models import TimelineEntry
from tests.one_order import place_one_order


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature, computed from the spec rather than a library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass
class Factory:
    id: object
    secret: str
    frame_id: str  # its work item on the order, reference "FS-77"
    cushion_id: str  # another factory's work item on the same order


@pytest.fixture
def factory(session):
    world = place_one_order(
        session, [("Foshan", "Sofa frame", 1, "FS-77"), ("Dongguan", "Cushions", 4, None)]
    )
    session.commit()
    frames, secret = world.factories["Foshan"]
    frame, cushion = world.order.items
    return Factory(frames.id, secret, str(frame.id), str(cushion.id))


def post(client, factory, payload, *, webhook_id="msg_1", secret=None, timestamp=None,
         signature=None, raw=None):  # fmt: skip
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature
        or sign(secret or factory.secret, webhook_id, timestamp, body),
        "content-type": "application/json",
    }
    return client.post(f"/webhooks/factories/{factory.id}/progress", data=body, headers=headers)


EVENT = {"work_item": "FS-77", "milestone": "shipped"}


def counts(session) -> tuple[int, ...]:
    """(deliveries claimed, timeline entries, messages, outbox rows)."""
    session.expire_all()
    claims = select(func.count()).where(TimelineEntry.webhook_id.is_not(None))
    totals = (select(func.count()).select_from(m) for m in (TimelineEntry, Message, OutboxEvent))
    return (session.scalar(claims), *map(session.scalar, totals))


def milestone_of(session, work_item_id) -> str:
    session.expire_all()
    return session.get(WorkItem, uuid.UUID(work_item_id)).milestone


def test_a_signed_event_moves_the_work_item_and_tells_the_group(client, session, factory):
    before = counts(session)
    response = post(client, factory, {"work_item": factory.frame_id, "milestone": "shipped"})
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {
        "accepted": 1,
        "results": [{"work_item": factory.frame_id, "milestone": "shipped", "moved": True}],
    }
    assert milestone_of(session, factory.frame_id) == "shipped"
    note = session.scalars(select(Message).where(Message.kind == "notification")).one()
    assert note.payload["milestone"] == "shipped" and "Sofa frame" in note.text
    reports, entries, messages, outbox = counts(session)
    assert (reports, entries, messages) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert outbox == before[3]  # the message is its own outbox entry
    assert note.planned_at is None


def test_the_factorys_own_reference_names_its_work_item(client, session, factory):
    response = post(client, factory, {"work_item": "FS-77", "milestone": "in_production"})
    assert response.status_code == 202
    assert milestone_of(session, factory.frame_id) == "in_production"


def test_any_valid_signature_among_several_passes(client, session, factory):
    body = json.dumps({"work_item": "FS-77", "milestone": "designed"}).encode()
    now = int(time.time())
    good = sign(factory.secret, "msg_many", now, body)
    wrong = sign("whsec_" + base64.b64encode(b"x" * 24).decode(), "msg_many", now, body)
    response = post(
        client, factory, None, raw=body, webhook_id="msg_many", timestamp=now,
        signature=f"{wrong} v2,abc {good}",
    )  # fmt: skip
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("wrong_secret", "signature_mismatch"),
        ("tampered_body", "signature_mismatch"),
        ("other_webhook_id", "signature_mismatch"),
        ("garbage_signature", "signature_malformed"),
        ("not_base64", "signature_malformed"),
        ("short_signature", "signature_malformed"),
        ("other_version_only", "signature_malformed"),
        ("timestamp_not_a_number", "signature_malformed"),
        ("missing_timestamp", "signature_missing"),
        ("missing_signature", "signature_missing"),
        ("empty_webhook_id", "signature_missing"),
    ],
)
def test_a_refused_signature_is_a_401_saying_why_and_stores_nothing(
    client, session, factory, tamper, code
):
    before = counts(session)
    body = json.dumps({"work_item": "FS-77", "milestone": "shipped"}).encode()
    now = int(time.time())
    headers = {
        "webhook-id": "msg_bad",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(factory.secret, "msg_bad", now, body),
    }
    if tamper == "wrong_secret":
        other = "whsec_" + base64.b64encode(b"k" * 24).decode()
        headers["webhook-signature"] = sign(other, "msg_bad", now, body)
    elif tamper == "tampered_body":
        body = body.replace(b"shipped", b"delivered")
    elif tamper == "other_webhook_id":
        headers["webhook-id"] = "msg_other"
    elif tamper == "garbage_signature":
        headers["webhook-signature"] = "garbage"
    elif tamper == "not_base64":
        headers["webhook-signature"] = "v1,!!!not base64!!!"
    elif tamper == "short_signature":
        headers["webhook-signature"] = "v1," + base64.b64encode(b"too short").decode()
    elif tamper == "other_version_only":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    elif tamper == "timestamp_not_a_number":
        headers["webhook-timestamp"] = "yesterday"
    elif tamper == "missing_timestamp":
        del headers["webhook-timestamp"]
    elif tamper == "missing_signature":
        del headers["webhook-signature"]
    elif tamper == "empty_webhook_id":
        headers["webhook-id"] = ""
    response = client.post(f"/webhooks/factories/{factory.id}/progress", data=body, headers=headers)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["details"] == {}  # only a stale timestamp comes with details
    assert counts(session) == before
    assert milestone_of(session, factory.frame_id) == "received"


def test_a_missing_header_is_named(client, factory):
    response = post(client, factory, EVENT, signature=" ")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == (
        "signature_missing",
        "Missing header: webhook-signature.",
    )


def test_a_malformed_entry_does_not_void_a_valid_one_beside_it(client, session, factory):
    body = json.dumps(EVENT).encode()
    now = int(time.time())
    good = sign(factory.secret, "msg_mixed", now, body)
    for header in (f"v1,AAA {good}", f"v1 v1,!! ,, {good} v1,AAA="):
        response = post(
            client, factory, None, raw=body, webhook_id="msg_mixed", timestamp=now,
            signature=header,
        )  # fmt: skip
        assert response.status_code in (200, 202), (header, response.get_json())
    assert milestone_of(session, factory.frame_id) == "shipped"


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_over_five_minutes_off_either_way_is_refused(client, session, factory, skew):
    before = counts(session)
    response = post(client, factory, EVENT, timestamp=int(time.time()) + skew)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "timestamp_out_of_range"
    # The server's clock, for the factory to compare with its own.
    assert abs(error["details"]["server_time"] - time.time()) < 5
    assert error["details"]["tolerance_seconds"] == 300
    assert counts(session) == before
    assert milestone_of(session, factory.frame_id) == "received"


@pytest.mark.parametrize("skew", [-299, 299])
def test_a_timestamp_within_five_minutes_passes(client, factory, skew):
    response = post(client, factory, EVENT, timestamp=int(time.time()) + skew)
    assert response.status_code == 202


def test_after_a_rotation_the_old_secret_works_for_24_hours_only(client, session, factory):
    chain_id = session.get(WorkItem, uuid.UUID(factory.frame_id)).chain_id
    new_secret, _ = rotate_webhook_secret(session, chain_id=chain_id, organisation_id=factory.id)
    session.commit()
    payload = {"work_item": "FS-77", "milestone": "designed"}
    assert post(client, factory, payload, webhook_id="a").status_code == 202  # old secret
    assert post(client, factory, payload, webhook_id="b", secret=new_secret).status_code == 202
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=24, minutes=1), tick=False):
        assert post(client, factory, payload, webhook_id="c").status_code == 401
        assert post(client, factory, payload, webhook_id="d", secret=new_secret).status_code == 202


def test_a_repeated_webhook_id_gets_the_first_answer_and_changes_nothing(client, session, factory):
    first = post(client, factory, {"work_item": "FS-77", "milestone": "shipped"})
    before = counts(session)
    again = post(client, factory, {"work_item": "FS-77", "milestone": "shipped"})
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert counts(session) == before


def test_a_body_over_64_kib_is_a_413_and_stores_nothing(client, session, factory):
    before = counts(session)
    payload = {"work_item": "FS-77", "milestone": "shipped", "note": "x" * (64 * 1024)}
    response = post(client, factory, payload)
    assert response.status_code == 413
    assert counts(session) == before


def test_a_signed_body_that_is_not_json_is_a_400(client, session, factory):
    before = counts(session)
    response = post(client, factory, None, raw=b"{not json")
    assert response.status_code == 400
    assert counts(session) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"work_item": "FS-77", "milestone": "teleported"}, "milestone"),
        ({"work_item": "nope", "milestone": "shipped"}, "work_item"),
        ({"milestone": "shipped"}, "work_item"),
        ({"work_item": "FS-77", "milestone": "shipped", "occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_bad_events_are_a_422_naming_the_field(client, session, factory, payload, field):
    before = counts(session)
    response = post(client, factory, payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert counts(session) == before


def test_another_factorys_work_item_is_refused_like_an_unknown_one(client, session, factory):
    theirs = post(client, factory, {"work_item": factory.cushion_id, "milestone": "shipped"})
    unknown = post(
        client, factory, {"work_item": "00000000-0000-7000-8000-000000000000",
                          "milestone": "shipped"}, webhook_id="msg_2",
    )  # fmt: skip
    assert theirs.status_code == unknown.status_code == 422
    assert theirs.get_json() == unknown.get_json()
    assert milestone_of(session, factory.cushion_id) == "received"


def test_a_batch_is_recorded_whole(client, session, factory):
    events = [
        {"work_item": "FS-77", "milestone": "designed"},
        {"work_item": factory.frame_id, "milestone": "in_production"},
    ]
    response = post(client, factory, {"events": events})
    assert response.status_code == 202
    assert [r["moved"] for r in response.get_json()["results"]] == [True, True]
    assert milestone_of(session, factory.frame_id) == "in_production"


def test_a_batch_is_judged_in_its_own_order(client, session, factory):
    """Steps of one item within a batch: each against the one before it, the last forward
    step wins, and only the forward ones notify."""
    before = counts(session)
    eta = "2030-12-24T09:00:00+00:00"
    events = [
        {"work_item": "FS-77", "milestone": "designed", "eta": eta},
        {"work_item": "FS-77", "milestone": "shipped"},
        {"work_item": factory.frame_id, "milestone": "in_production"},  # behind shipped: late
        {"work_item": "FS-77", "milestone": "shipped"},  # the same again: late
    ]
    response = post(client, factory, {"events": events})
    assert response.status_code == 202
    assert [r["moved"] for r in response.get_json()["results"]] == [True, True, False, False]
    session.expire_all()
    frame = session.get(WorkItem, uuid.UUID(factory.frame_id))
    assert (frame.milestone, frame.eta.isoformat()) == ("shipped", eta)
    notes = session.scalars(
        select(Message.text).where(Message.kind == "notification").order_by(Message.id)
    ).all()
    assert [note.split("— ")[1][:4] for note in notes] == ["设计完成", "已发货。"]
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.work_item_id == frame.id)
        .order_by(TimelineEntry.id)
    ).all()
    assert [(e.milestone, e.late) for e in entries] == [
        ("designed", False), ("shipped", False), ("in_production", True), ("shipped", True)
    ]  # fmt: skip
    assert counts(session)[2] == before[2] + 2


def test_one_bad_event_refuses_the_whole_batch(client, session, factory):
    before = counts(session)
    events = [
        {"work_item": "FS-77", "milestone": "designed"},
        {"work_item": factory.cushion_id, "milestone": "shipped"},
    ]
    response = post(client, factory, {"events": events})
    assert response.status_code == 422
    assert "events[1].work_item" in response.get_json()["error"]["details"]["fields"]
    assert counts(session) == before
    assert milestone_of(session, factory.frame_id) == "received"


def test_a_batch_over_500_events_is_refused(client, session, factory):
    events = [{"work_item": "FS-77", "milestone": "designed"}] * 501
    response = post(client, factory, {"events": events})
    assert response.status_code in (413, 422)
    assert milestone_of(session, factory.frame_id) == "received"


def test_a_late_event_is_kept_but_neither_moves_back_nor_notifies(client, session, factory):
    post(client, factory, {"work_item": "FS-77", "milestone": "shipped"}, webhook_id="one")
    notifications = select(func.count()).where(Message.kind == "notification")
    told = session.scalar(notifications)
    late = post(
        client, factory, {"work_item": "FS-77", "milestone": "in_production"}, webhook_id="two"
    )
    assert late.status_code == 202
    assert late.get_json()["results"][0]["moved"] is False
    assert milestone_of(session, factory.frame_id) == "shipped"
    assert session.scalar(notifications) == told
    entry = session.scalars(
        select(TimelineEntry).where(TimelineEntry.milestone == "in_production")
    ).one()
    assert entry.late


def test_an_unknown_factory_is_answered_like_a_wrong_secret(client, session, factory):
    stranger = Factory("00000000-0000-7000-8000-000000000000", factory.secret, "", "")
    unknown = post(client, stranger, EVENT)
    wrong = post(client, factory, EVENT, secret="whsec_" + base64.b64encode(b"k" * 24).decode())
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert unknown.get_json()["error"]["code"] == "signature_mismatch"


def test_an_overlong_webhook_id_is_a_400_and_stores_nothing(client, session, factory):
    before = counts(session)
    response = post(
        client, factory, {"work_item": "FS-77", "milestone": "shipped"}, webhook_id="x" * 201
    )
    assert response.status_code == 400
    assert "webhook-id" in response.get_json()["error"]["message"]
    assert counts(session) == before
