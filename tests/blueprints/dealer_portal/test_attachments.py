"""Attachments in the delivery group: a photo or a PDF sent with a message (or alone), shown as
a thumbnail or a file link, and downloaded only by whoever may open the group — the portal's
members who may see it, the customer through their own link — with headers that keep the
browser from taking a file for a page. Every refused upload leaves no row and no file."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from service.attachments.checks import MAX_BYTES
from service.attachments.models import Attachment
from service.chain.chains import issue_api_key
from service.customers.links import create_link
from service.groups.models import Message
from tests.attachment_files import bomb, pdf, photo
from tests.blueprints.dealer_portal import test_groups
from tests.blueprints.dealer_portal.test_groups import client_message_id, csrf, messages_of, sign_in
from tests.service.customers import chain_world

acme, rival, group = chain_world.acme, chain_world.rival, test_groups.group


@pytest.fixture(autouse=True)
def attachments_dir(bound_app, tmp_path, monkeypatch) -> Path:
    config = bound_app.extensions["chain_collab.config"]
    root = tmp_path / "attachments"
    monkeypatch.setitem(
        bound_app.extensions, "chain_collab.config", config.with_overrides(attachments_dir=root)
    )
    return root


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(client, group, data: bytes, name: str, content_type: str, text: str = "", **headers):
    page = client.get(f"/portal/groups/{group.id}")
    form = {
        "text": text,
        "csrf_token": csrf(page),
        "client_message_id": client_message_id(page),
        "file": (io.BytesIO(data), name, content_type),
    }
    return client.post(
        f"/portal/groups/{group.id}/messages",
        data=form,
        content_type="multipart/form-data",
        headers=headers,
    )


def attachments(acme) -> list[Attachment]:
    return list(acme.session.scalars(select(Attachment).order_by(Attachment.created_at)))


def test_a_photo_with_a_caption_is_stored_with_its_thumbnail_and_shown(
    client, acme, group, attachments_dir
):
    sign_in(client, acme.owner)

    answer = upload(client, group, photo("JPEG"), "客厅 实景.jpg", "image/jpeg", text="装好了")

    assert answer.status_code == 302
    [attachment] = attachments(acme)
    message = acme.session.get(Message, attachment.message_id)
    assert message.text == "装好了" and message.group_id == group.id
    assert (attachment.kind, attachment.content_type) == ("image", "image/jpeg")
    assert (attachment.file_name, attachment.width, attachment.height) == (
        "客厅 实景.jpg",
        800,
        600,
    )
    assert attachment.uploaded_by_member_id == acme.owner.id
    assert attachment.id.version == 4
    stored = [p.name for p in files_in(attachments_dir)]
    assert stored == sorted([attachment.id.hex, f"{attachment.id.hex}.thumb.webp"])
    page = client.get(f"/portal/groups/{group.id}")
    assert f'src="/portal/attachments/{attachment.id}/thumbnail"' in page.text
    assert f'href="/portal/attachments/{attachment.id}"' in page.text
    assert 'alt="客厅 实景.jpg"' in page.text and 'width="320" height="240"' in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'accept="image/jpeg,' in page.text


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [("PNG", "drawing.png", "image/png"), ("WEBP", "site.webp", "image/webp")],
)
def test_png_and_webp_photos_may_go_without_text(client, acme, group, fmt, name, content_type):
    sign_in(client, acme.owner)

    answer = upload(client, group, photo(fmt), name, content_type)

    assert answer.status_code == 302
    [attachment] = attachments(acme)
    assert attachment.content_type == content_type
    assert acme.session.get(Message, attachment.message_id).text == ""


def test_a_pdf_is_a_link_with_its_size_and_downloads_as_a_file(client, acme, group):
    sign_in(client, acme.owner)

    assert upload(client, group, pdf(), "发票 №7.pdf", "application/pdf").status_code == 302

    [attachment] = attachments(acme)
    page = client.get(f"/portal/groups/{group.id}")
    assert f'href="/portal/attachments/{attachment.id}" download>发票 №7.pdf</a>' in page.text
    assert f"({len(pdf())} Bytes)" in page.text
    download = client.get(f"/portal/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == pdf()
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8%20%E2%84%967.pdf" in disposition
    assert client.get(f"/portal/attachments/{attachment.id}/thumbnail").status_code == 404


def test_a_photo_and_its_thumbnail_are_served_inline_with_safe_headers(client, acme, group):
    sign_in(client, acme.owner)
    upload(client, group, photo("PNG"), "drawing.png", "image/png")
    [attachment] = attachments(acme)

    original = client.get(f"/portal/attachments/{attachment.id}")
    thumbnail = client.get(f"/portal/attachments/{attachment.id}/thumbnail")

    assert original.data == photo("PNG")
    assert original.headers["Content-Type"] == "image/png"
    assert original.headers["Content-Disposition"] == "inline; filename=drawing.png"
    for response in (original, thumbnail):
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"].startswith("private")
        assert "sandbox" in response.headers["Content-Security-Policy"]
    assert thumbnail.headers["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(thumbnail.data)) as small:
        assert small.size == (320, 240)


def test_the_message_with_its_photo_comes_back_to_the_script_and_the_stream(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")
    last = re.search(r'data-last="([^"]*)"', page.text).group(1)

    answer = upload(client, group, photo(), "a.jpg", "image/jpeg", Accept="application/json")

    assert answer.status_code == 201
    [item] = answer.get_json()["items"]
    [attachment] = attachments(acme)
    assert f"/portal/attachments/{attachment.id}/thumbnail" in item["html"]
    polled = client.get(f"/portal/groups/{group.id}/messages?after={last}").get_json()
    assert f"/portal/attachments/{attachment.id}/thumbnail" in polled["items"][-1]["html"]


HOSTILE = [
    ("png named jpg", photo("PNG"), "photo.jpg", "image/jpeg",
     "The file's name does not match what it contains."),
    ("wrong magic for the extension", pdf(), "photo.png", "image/png",
     "The file's name does not match what it contains."),
    ("html named png", b"<html><script>alert(1)</script></html>", "photo.png", "image/png",
     "Only photos (JPEG, PNG, WebP) and PDF files can be attached."),
    ("declared type not the content", photo("PNG"), "photo.png", "image/webp",
     "The file's type does not match what it contains."),
    ("truncated photo", photo("JPEG", (1200, 900))[:3000], "photo.jpg", "image/jpeg",
     "The photo cannot be read: it is damaged or not a photo."),
    ("decompression bomb", bomb(), "bomb.png", "image/png",
     "The photo has too many pixels (at most 50 megapixels)."),
    ("empty file", b"", "photo.jpg", "image/jpeg", "The file is empty."),
    ("zero-length name", photo(), "", "image/jpeg", "The file has no name."),
    ("a name of invisible characters", photo(), "\u202e\u200b", "image/jpeg",
     "The file has no name."),
    ("just over 20 MB", photo() + b"\0" * (MAX_BYTES + 1 - len(photo())), "photo.jpg",
     "image/jpeg", "The file is over 20 MB."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "name", "content_type", "reason"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_a_refused_upload_shows_why_and_stores_nothing(
    client, acme, group, attachments_dir, data, name, content_type, reason
):
    sign_in(client, acme.owner)
    before = len(messages_of(acme, group))

    answer = upload(client, group, data, name, content_type, text="看看这个")

    assert answer.status_code == 422
    assert reason.replace("'", "&#39;") in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert attachments(acme) == []
    assert len(messages_of(acme, group)) == before
    assert files_in(attachments_dir) == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, acme, group, attachments_dir):
    sign_in(client, acme.owner)
    before = len(messages_of(acme, group))
    big = photo() + b"\0" * (MAX_BYTES + 200_000)

    answer = upload(client, group, big, "photo.jpg", "image/jpeg", Accept="application/json")

    assert answer.status_code == 413
    assert answer.get_json()["fields"]["file"] == ["The file is over 20 MB."]
    assert len(messages_of(acme, group)) == before
    assert files_in(attachments_dir) == []


def test_a_refusal_is_said_in_chinese(client, acme, group):
    sign_in(client, acme.owner)

    answer = upload(
        client, group, photo("PNG"), "photo.jpg", "image/jpeg", **{"Accept-Language": "zh-CN"}
    )

    assert answer.status_code == 422
    assert "文件名与文件内容不符" in answer.text


def test_a_blocked_caption_stores_neither_the_message_nor_the_file(
    client, acme, group, attachments_dir
):
    sign_in(client, acme.owner)
    before = len(messages_of(acme, group))

    answer = upload(client, group, photo(), "a.jpg", "image/jpeg", text="加我微信")

    assert answer.status_code == 422
    assert "blocked word" in answer.text
    assert attachments(acme) == [] and files_in(attachments_dir) == []
    assert len(messages_of(acme, group)) == before


def test_neither_text_nor_file_is_refused(client, acme, group):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")

    answer = client.post(
        f"/portal/groups/{group.id}/messages",
        data={"text": " ", "csrf_token": csrf(page), "client_message_id": client_message_id(page)},
    )

    assert answer.status_code == 422
    assert "Write a message or attach a file." in answer.text


def test_a_failed_commit_leaves_no_file(client, acme, group, attachments_dir, monkeypatch):
    sign_in(client, acme.owner)
    page = client.get(f"/portal/groups/{group.id}")

    def refused(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("sqlalchemy.orm.Session.commit", refused)
    with pytest.raises(RuntimeError):
        client.post(
            f"/portal/groups/{group.id}/messages",
            data={
                "csrf_token": csrf(page),
                "client_message_id": client_message_id(page),
                "file": (io.BytesIO(photo()), "a.jpg", "image/jpeg"),
            },
            content_type="multipart/form-data",
        )

    assert files_in(attachments_dir) == []


@pytest.fixture
def uploaded(client, acme, group):
    sign_in(client, acme.owner)
    upload(client, group, photo(), "a.jpg", "image/jpeg")
    [attachment] = attachments(acme)
    with client.session_transaction() as session:
        session.clear()
    return attachment


@pytest.mark.parametrize("suffix", ["", "/thumbnail"])
def test_only_who_may_see_the_group_may_download(client, acme, rival, uploaded, suffix):
    path = f"/portal/attachments/{uploaded.id}{suffix}"
    assert client.get(path).status_code == 302  # to sign in
    for outsider in (acme.their_owner, acme.colleague, rival.owner):
        sign_in(client, outsider)
        assert client.get(path).status_code == 404, outsider.name
    for insider in (acme.admin, acme.designer):
        sign_in(client, insider)
        assert client.get(path).status_code == 200, insider.name


@pytest.mark.parametrize("suffix", ["", "/thumbnail"])
def test_the_customers_link_shows_and_serves_their_photos_only(
    client, acme, group, uploaded, suffix
):
    _, token = create_link(acme.session, chain_id=acme.id, customer_id=group.customer_id)
    stranger = acme.customer("张三")
    acme.order(stranger)
    _, stranger_token = create_link(acme.session, chain_id=acme.id, customer_id=stranger.id)
    acme.session.commit()

    page = client.get(f"/c/{token}")
    assert f'src="/c/{token}/attachments/{uploaded.id}/thumbnail"' in page.text
    mine = client.get(f"/c/{token}/attachments/{uploaded.id}{suffix}")
    assert mine.status_code == 200
    assert mine.headers["Cache-Control"].startswith("private")
    assert mine.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/c/{stranger_token}/attachments/{uploaded.id}{suffix}").status_code == 404
    assert client.get(f"/c/not-a-token/attachments/{uploaded.id}{suffix}").status_code == 404


def test_the_brand_api_lists_a_messages_attachments_with_their_portal_url(
    client, acme, group, uploaded
):
    _, key = issue_api_key(acme.session, chain_id=acme.id, name="test")
    acme.session.commit()

    answer = client.get(
        f"/api/v1/groups/{group.id}/messages", headers={"Authorization": f"Bearer {key}"}
    )

    assert answer.status_code == 200
    [shown] = [m for m in answer.get_json()["items"] if m["attachments"]]
    assert shown["attachments"] == [
        {
            "id": str(uploaded.id),
            "kind": "image",
            "name": "a.jpg",
            "size": uploaded.size,
            "content_type": "image/jpeg",
            "width": 800,
            "height": 600,
            "url": f"https://chain.example/portal/attachments/{uploaded.id}",
        }
    ]


def test_the_message_carries_the_link_the_channels_are_sent(acme, group, uploaded):
    message = acme.session.get(Message, uploaded.message_id)

    assert message.payload["attachments"] == [
        {
            "id": str(uploaded.id),
            "kind": "image",
            "name": "a.jpg",
            "size": uploaded.size,
            "url": f"https://chain.example/portal/attachments/{uploaded.id}",
        }
    ]
    assert acme.session.scalar(select(func.count()).select_from(Attachment)) == 1
