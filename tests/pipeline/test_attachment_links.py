"""A message with a photo or a file reaches the channels with a link to the portal's download
(which asks for a sign-in), written the way each chat tool writes a link."""

from __future__ import annotations

import pytest

from service.attachments.attachments import attach
from service.attachments.checks import check_upload
from service.attachments.files import FileStore
from service.groups.messages import post_message
from service.groups.models import DeliveryGroup
from tests.attachment_files import photo
from tests.pipeline.conftest import Answer
from tests.pipeline.test_channel_types import OK


def _post_photo(world, tmp_path, text: str = "") -> str:
    with world.session() as session:
        group = session.get(DeliveryGroup, world.group_id)
        [message], _ = post_message(
            session, group=group, text=text, sender="customer", with_attachment=True
        )
        checked = check_upload(photo(), "客厅 [1].jpg", "image/jpeg")
        attachment = attach(
            session, FileStore(tmp_path), message=message, checked=checked,
            uploaded_by_member_id=None,
            link=lambda id_: f"https://chain.example/portal/attachments/{id_}",
        )  # fmt: skip
        session.commit()
        return f"https://chain.example/portal/attachments/{attachment.id}"


@pytest.mark.parametrize(
    ("channel_type", "expected"),
    [
        ("wecom_robot", "[客厅 [1]\u200b.jpg]({url})"),
        ("dingtalk_robot", "[客厅 [1]\u200b.jpg]({url})"),
        ("slack", "<{url}|客厅 [1].jpg>"),
        ("feishu_robot", "客厅 [1].jpg: {url}"),
    ],
)
def test_a_chat_tool_gets_the_attachments_link(world, receiver, tmp_path, channel_type, expected):
    receiver.default = Answer(200, OK[channel_type])
    world.add_channel(receiver.url + "?access_token=t", type=channel_type)
    url = _post_photo(world, tmp_path, text="装好了")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    body = request.body.decode()
    assert "装好了" in body
    # The name's "]" cannot close the link early: a zero-width space follows it.
    assert expected.format(url=url) in body


def test_a_photo_without_text_goes_as_its_link_on_the_senders_line(world, receiver, tmp_path):
    world.add_channel(receiver.url, type="wecom_robot")
    url = _post_photo(world, tmp_path)
    world.run_jobs()

    [request] = receiver.wait_for(1)
    content = request.json["markdown"]["content"]
    [line] = [line for line in content.split("\n") if url in line]
    assert "**Zhang San**: [客厅" in line


def test_a_brands_webhook_gets_the_attachment_in_the_payload(world, receiver, tmp_path):
    receiver.default = Answer(200, OK["webhook"])
    world.add_channel(receiver.url, type="webhook")
    url = _post_photo(world, tmp_path, text="装好了")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    [attachment] = request.json["data"]["message"]["payload"]["attachments"]
    assert attachment["url"] == url and attachment["kind"] == "image"
