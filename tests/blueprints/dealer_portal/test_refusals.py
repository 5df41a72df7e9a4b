"""The domain's refusals on the portal's and the customer link's forms, in the reader's
language: each kind in Chinese and in English. The domain keeps its English (the brand API's),
and every reason its checks can give a form is known to the portal's table."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from blueprints.dealer_portal.refusals import REASONS, say
from service.chain.members import add_member
from service.customers.links import create_link
from service.errors import Reason
from service.groups import moderation
from service.groups.models import DeliveryGroup
from service.groups.templates import create_template
from tests.attachment_files import bomb, photo
from tests.blueprints.dealer_portal import test_attachments, test_groups
from tests.blueprints.dealer_portal.pages_world import build_world
from tests.blueprints.dealer_portal.test_groups import csrf, send, sign_in
from tests.blueprints.dealer_portal.test_pages import ADMIN, _add, _as
from tests.service.customers import chain_world

acme, rival, group = chain_world.acme, chain_world.rival, test_groups.group
attachments_dir = test_attachments.attachments_dir
ZH, EN = "zh-CN", "en"


def both(zh: str, en: str) -> list[tuple[str, str]]:
    """A reason as each language says it: (language, reason)."""
    return [(ZH, zh), (EN, en)]


@pytest.fixture
def strict_group(acme, group):
    """The group, its template refusing contact details as well as its blocked word."""
    create_template(
        acme.session,
        chain_id=acme.id,
        directory_group_id=None,
        blocked_words=[{"word": "微信", "action": "block"}],
        contact_action="block",
    )
    acme.session.commit()
    return group


def _said(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("加我微信聊", ZH, "包含禁用词“微信”。"),
        ("加我微信聊", EN, "Contains the blocked word “微信”."),
        ("打我电话 139 1234 5678", ZH, "包含手机号码。"),
        ("Call me on 139 1234 5678", EN, "Contains a mobile number."),
        ("mail chen.jing@example.com", ZH, "包含电子邮箱地址。"),
        ("mail chen.jing@example.com", EN, "Contains an e-mail address."),
    ],
)
def test_a_refused_message_says_why_in_the_readers_language(
    client, acme, strict_group, text, language, reason
):
    sign_in(client, acme.owner)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    answer = send(client, strict_group, text)

    assert answer.status_code == 422
    assert f'<span class="field-error">{reason}</span>' in _said(answer)


@pytest.mark.parametrize(
    ("language", "reason"), both("包含手机号码。", "Contains a mobile number.")
)
def test_a_refused_reply_on_the_customers_link_says_why_in_their_language(
    client, acme, strict_group, language, reason
):
    _, token = create_link(acme.session, chain_id=acme.id, customer_id=strict_group.customer_id)
    acme.session.commit()
    headers = {"Accept-Language": language}
    page = client.get(f"/c/{token}", headers=headers)

    answer = client.post(
        f"/c/{token}",
        data={"csrf_token": csrf(page), "text": "13912345678"},
        headers={**headers, "Accept": "application/json"},
    )

    assert answer.status_code == 422
    assert answer.json["errors"] == [reason]


@pytest.mark.parametrize(
    ("data", "name", "content_type", "language", "reason"),
    [
        (photo("PNG"), "photo.png", "image/webp", ZH, "文件类型与文件内容不符。"),
        (b"<html></html>", "photo.png", "image/png", ZH,
         "只能添加图片（JPEG、PNG、WebP）和 PDF 文件。"),
        (bomb(), "bomb.png", "image/png", ZH, "图片像素过多（最多 5000 万像素）。"),
        (bomb(), "bomb.png", "image/png", EN,
         "The photo has too many pixels (at most 50 megapixels)."),
    ],
)  # fmt: skip
def test_a_refused_file_says_why_in_the_readers_language(
    client, acme, group, data, name, content_type, language, reason
):
    sign_in(client, acme.owner)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    answer = test_attachments.upload(client, group, data, name, content_type)

    assert answer.status_code == 422
    assert reason in _said(answer)


@pytest.mark.parametrize(
    ("language", "reason"),
    both("群已满：最多 3 人。", "The group is full: it has its cap of 3 members."),
)
def test_seating_someone_in_a_full_group_says_so_under_the_field(
    client, acme, group, language, reason
):
    acme.session.execute(
        update(DeliveryGroup)
        .where(DeliveryGroup.id == group.id)
        .values(member_cap=3, member_count=3)
    )
    acme.session.commit()
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}", headers={"Accept-Language": language})

    answer = client.post(
        f"/portal/groups/{group.id}/seats",
        data={"member_id": str(acme.coordinator.id), "csrf_token": csrf(page)},
        headers={"Accept-Language": language},
    )

    assert answer.status_code == 422
    assert f'<span class="field-error">{reason}</span>' in _said(answer)


@pytest.mark.parametrize(
    ("language", "reason"),
    both("您可以查看这个群，但不能在群里发消息。", "You may read this group but not post in it."),
)
def test_a_refusal_of_the_whole_request_is_said_on_the_error_page(
    client, acme, group, language, reason
):
    brand = add_member(
        acme.session, chain_id=acme.id, organisation_id=acme.brand.id, name="Han Mei", role="admin"
    )
    acme.session.commit()
    sign_in(client, brand)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get(f"/portal/groups/{group.id}")

    answer = client.post(
        f"/portal/groups/{group.id}/messages", data={"text": "hi", "csrf_token": csrf(page)}
    )

    assert answer.status_code == 403
    assert f'<p class="error">{reason}</p>' in _said(answer)


@pytest.mark.parametrize(
    ("fields", "language", "reason"),
    [
        ({"mobile": "12345"}, ZH, "不是有效的电话号码。"),
        ({"mobile": "12345"}, EN, "Not a valid phone number."),
        ({"tags": ",".join(f"t{n}" for n in range(51))}, ZH, "最多 50 个标签。"),
        ({"tags": ",".join(f"t{n}" for n in range(51))}, EN, "At most 50 tags."),
        ({"tags": "x" * 51}, ZH, "每个标签最多 50 个字符。"),
    ],
)
def test_a_customer_refused_says_why_under_the_field(client, session, fields, language, reason):
    build_world(session)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    _as(client, ADMIN)

    answer = _add(client, **{"name": "Sun Li", "mobile": "138 0013 8000", **fields})

    assert answer.status_code == 422
    assert f'<span class="field-error">{reason}</span>' in _said(answer)


@pytest.mark.parametrize(
    ("language", "reason"),
    both(
        "此上下游中已有其他成员使用该邮箱。",
        "Another member of this chain already uses this e-mail address.",
    ),
)
def test_a_colleague_refused_says_why_under_the_field(client, session, language, reason):
    build_world(session)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    _as(client, ADMIN)
    token = csrf(client.get("/portal/team"))

    answer = client.post(
        "/portal/team",
        data={
            "csrf_token": token,
            "name": "Li Na",
            "role": "sales",
            "email": "LI.NA@pudong.example",
        },
    )

    assert answer.status_code == 409
    assert f'<span class="field-error">{reason}</span>' in _said(answer)


def test_a_reason_with_something_in_it_is_said_with_it():
    reason = Reason("Contains the blocked word {word!r}.", word="it's")

    assert reason == """Contains the blocked word "it's"."""  # the API's words, unchanged
    assert say(reason) == "Contains the blocked word “it's”."


def test_a_reason_the_portal_does_not_know_is_shown_in_english():
    assert say("A reason nobody has translated.") == "A reason nobody has translated."


@pytest.mark.parametrize("word", ["微信", "it's", 'say "hi"', "back\\slash"])
def test_a_stored_flag_gives_its_word_back(word):
    made = Reason(moderation.BLOCKED_WORD, word=word)

    read = moderation.stored_reason(str(made))

    assert (read.sentence, read.params) == (moderation.BLOCKED_WORD, {"word": word})
    assert moderation.stored_reason("Contains a mobile number.") == "Contains a mobile number."


SERVICE = Path(__file__).parents[3] / "service"
# The domain's modules whose every refusal a portal or link form can show.
FORM_DOMAIN = [
    "attachments/checks.py",
    "groups/moderation.py",
    "chain/mobiles.py",
    "tags.py",
    *(str(p.relative_to(SERVICE)) for p in sorted((SERVICE / "portal").glob("*.py"))),
]


def _sentence(node) -> str | None:
    """A string that is a sentence (a field's name or an f-string's piece is not)."""
    if isinstance(node, ast.Constant) and re.fullmatch(r"[A-Z].*\.", str(node.value), re.S):
        return node.value
    return None


def _sentences(tree: ast.AST) -> set[str]:
    """The English sentences a module refuses with: those it raises, the sentences of the
    Reasons it makes, and those it names (moderation's, made into Reasons elsewhere)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            found |= {_sentence(part) for part in ast.walk(node.exc)}
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason":
            found |= {_sentence(arg) for arg in node.args[:1]}
        elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").isupper():
            found.add(_sentence(node.value))
    return found - {None}


@pytest.mark.parametrize("module", FORM_DOMAIN)
def test_every_reason_a_form_can_be_given_is_translated(module):
    sentences = _sentences(ast.parse((SERVICE / module).read_text(encoding="utf-8")))
    assert sentences - set(REASONS) == set(), "add them to blueprints/dealer_portal/refusals.py"


def test_every_reason_with_something_in_it_is_translated():
    sentences = set()
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason":
                sentences |= {_sentence(arg) for arg in node.args[:1]} - {None}
    assert sentences - set(REASONS) == set(), "add them to blueprints/dealer_portal/refusals.py"
