"""What each type of channel receives, end to end: the JSON its receiver got."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from service.channels.models import DeliveryState
from tests.pipeline.conftest import Answer

OK = {
    "wecom_robot": b'{"errcode":0,"errmsg":"ok"}',
    "dingtalk_robot": b'{"errcode":0,"errmsg":"ok"}',
    "feishu_robot": b'{"code":0,"msg":"success","data":{}}',
    "slack": b"ok",
    "webhook": b"",
}


def test_wecom_robot_gets_markdown(world, receiver):
    world.add_channel(receiver.url, type="wecom_robot")
    world.report("shipped", note="Truck 12")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    assert request.json["msgtype"] == "markdown"
    content = request.json["markdown"]["content"]
    assert "Zhang San" in content and "已发货" in content and "Truck 12" in content
    assert "**系统**" in content  # the chain's language names the system, too


def test_dingtalk_robot_gets_markdown_on_a_signed_url(world, receiver):
    receiver.default = Answer(200, OK["dingtalk_robot"])
    secret = "SEC" + "a" * 40
    world.add_channel(receiver.url + "?access_token=tok", type="dingtalk_robot", secret=secret)
    world.report("shipped")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    assert request.json["msgtype"] == "markdown"
    assert set(request.json["markdown"]) == {"title", "text"}
    query = parse_qs(urlsplit(request.path).query)
    timestamp = query["timestamp"][0]
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    assert query["sign"][0] == base64.b64encode(expected.digest()).decode()
    assert abs(int(timestamp) / 1000 - time.time()) < 60


def test_feishu_robot_gets_a_signed_post(world, receiver):
    receiver.default = Answer(200, OK["feishu_robot"])
    world.add_channel(receiver.url, type="feishu_robot", secret="feishu-secret")
    world.report("shipped")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    body = request.json
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert "Zhang San" in post["title"]
    assert any("已发货" in part["text"] for line in post["content"] for part in line)
    key = f"{body['timestamp']}\nfeishu-secret".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def test_slack_gets_escaped_mrkdwn_blocks(world, receiver):
    receiver.default = Answer(200, OK["slack"])
    world.add_channel(receiver.url, type="slack")
    world.report("shipped", note="<!channel> look")
    world.run_jobs()

    [request] = receiver.wait_for(1)
    body = request.json
    assert body["blocks"][0]["type"] == "section"
    text = body["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "已发货" in text


@pytest.mark.parametrize("channel_type", ["wecom_robot", "dingtalk_robot", "feishu_robot"])
def test_a_robot_error_code_on_http_200_is_a_failure(world, receiver, channel_type):
    channel_id = world.add_channel(receiver.url, type=channel_type)
    receiver.default = Answer(200, b'{"errcode":93000,"errmsg":"invalid webhook url","code":9}')
    world.report("shipped")
    world.run_jobs()

    [attempt] = world.attempts(channel_id)
    assert attempt.outcome == "retry"
    assert world.deliveries(channel_id)[0].state == DeliveryState.PENDING


def test_a_long_message_to_wecom_is_split_within_4096_bytes(world, receiver):
    channel_id = world.add_channel(receiver.url, type="wecom_robot")
    world.report("shipped", note="")
    with world.session() as session:
        from service.groups.messages import post_message
        from service.groups.models import DeliveryGroup

        group = session.get(DeliveryGroup, world.group_id)
        post_message(session, group=group, text="沙发框架已发货。" * 480, sender="customer")
        session.commit()
    world.run_jobs()
    world.sweep_and_run()
    from tests.pipeline.conftest import later

    with later(11):
        world.run_jobs()

    # Every part was answered, and so recorded by the receiver, before the worker returned.
    requests = receiver.requests
    contents = [r.json["markdown"]["content"] for r in requests]
    assert len(contents) >= 2
    assert all(len(c.encode()) <= 4096 for c in contents)
    assert sum(c.count("沙") for c in contents) == 480  # split, nothing lost
    assert all(d.state == DeliveryState.DELIVERED for d in world.deliveries(channel_id))
