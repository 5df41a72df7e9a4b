"""What each channel type is sent, how it is split and signed, and what its answers mean."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from service.errors import Invalid
from service.notify.formats import (
    CHANNEL_TYPES,
    OutgoingMessage,
    build_requests,
    excerpt,
    new_webhook_secret,
    read_reply,
    validate_secret,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/xyz"
SLACK_URL = "https://hooks.slack.com/services/T0/B0/XXXX"
DINGTALK_SECRET = "SEC" + "0f" * 32
ZWSP = "\u200b"


def message(text: str = "Shipped today", **changes) -> OutgoingMessage:
    values = {
        "key": "msg_0001",
        "message_id": "7d3c0c3e-0000-4000-8000-000000000001",
        "group_id": "7d3c0c3e-0000-4000-8000-0000000000aa",
        "group_name": "Order 1024 · 王女士",
        "kind": "text",
        "sender": "member",
        "sender_name": "Alice",
        "text": text,
        "payload": None,
        "created_at": datetime(2026, 11, 23, 1, 30, tzinfo=UTC),  # 09:30 in Shanghai
    }
    return OutgoingMessage(**(values | changes))


def build(channel_type, messages, *, secret=None, url=None, now=NOW):
    urls = {
        "wecom_robot": WECOM_URL,
        "dingtalk_robot": DINGTALK_URL,
        "feishu_robot": FEISHU_URL,
        "slack": SLACK_URL,
        "webhook": "https://brand.example/hooks",
    }
    return build_requests(
        channel_type,
        url or urls[channel_type],
        secret,
        messages,
        timezone="Asia/Shanghai",
        now=now,
    )


def body(request) -> dict:
    return json.loads(request.body)


# What each tool's limit is measured on, and the lines of a part after its title.
MEASURES = {
    "wecom_robot": (4096, lambda b, raw: len(b["markdown"]["content"].encode())),
    "dingtalk_robot": (20000, lambda b, raw: len(raw)),
    "feishu_robot": (20000, lambda b, raw: len(raw)),
    "slack": (3000, lambda b, raw: len(b["blocks"][0]["text"]["text"].encode("utf-16-le")) // 2),
}


def part_lines(channel_type: str, b: dict) -> list[str]:
    if channel_type == "wecom_robot":
        return b["markdown"]["content"].split("\n")[1:]
    if channel_type == "dingtalk_robot":
        return b["markdown"]["text"].split("\n\n")[1:]
    if channel_type == "feishu_robot":
        content = b["content"]["post"]["zh_cn"]["content"]
        return ["".join(node["text"] for node in paragraph) for paragraph in content]
    return b["blocks"][0]["text"]["text"].split("\n")[1:]


def unescape(channel_type: str, text: str) -> str:
    if channel_type in ("wecom_robot", "dingtalk_robot"):
        return text.replace("<" + ZWSP, "<").replace("]" + ZWSP, "]")
    if channel_type == "slack":
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def title_of(channel_type: str, b: dict) -> str:
    if channel_type == "feishu_robot":
        return b["content"]["post"]["zh_cn"]["title"]
    if channel_type == "dingtalk_robot":
        return b["markdown"]["title"]
    if channel_type == "slack":
        return b["text"]
    return b["markdown"]["content"].split("\n")[0].strip("*")


def assert_within_limits(channel_type: str, requests) -> None:
    limit, measure = MEASURES[channel_type]
    for request in requests:
        assert measure(body(request), request.body) <= limit


# --- shapes ------------------------------------------------------------------------------------


def test_wecom_robot_gets_one_markdown_message_with_local_times():
    [request] = build(
        "wecom_robot",
        [message("Shipped today"), message("When?", sender="customer", sender_name=None)],
    )

    assert request.url == WECOM_URL
    assert request.headers == {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "ChainCollab/1",
    }
    sent = body(request)
    assert sent["msgtype"] == "markdown"
    assert set(sent) == {"msgtype", "markdown"}
    assert sent["markdown"]["content"].split("\n") == [
        "**Order 1024 · 王女士**",
        '<font color="comment">09:30</font> **Alice**: Shipped today',
        '<font color="comment">09:30</font> **Customer**: When?',
    ]


def test_body_is_compact_utf8_json():
    [request] = build("wecom_robot", [message("你好")])

    assert "你好".encode() in request.body
    assert b'": ' not in request.body and b", " not in request.body


def test_system_message_without_a_name_is_from_system():
    [request] = build("slack", [message("Welcome", sender="system", sender_name=None)])

    assert "*System*: Welcome" in body(request)["blocks"][0]["text"]["text"]


def test_dingtalk_robot_gets_markdown_with_a_title():
    [request] = build("dingtalk_robot", [message("Shipped today")])

    assert request.url == DINGTALK_URL
    assert body(request) == {
        "msgtype": "markdown",
        "markdown": {
            "title": "Order 1024 · 王女士",
            "text": "**Order 1024 · 王女士**\n\n09:30 **Alice**: Shipped today",
        },
    }


def test_dingtalk_url_is_signed_as_documented():
    [request] = build("dingtalk_robot", [message()], secret=DINGTALK_SECRET)

    url = urlsplit(request.url)
    query = parse_qs(url.query)
    assert request.url.startswith(DINGTALK_URL + "&timestamp=")
    assert query["access_token"] == ["abc123"]
    timestamp = query["timestamp"][0]
    assert timestamp == str(int(NOW.timestamp() * 1000))
    string_to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
    expected = hmac.new(DINGTALK_SECRET.encode(), string_to_sign, hashlib.sha256).digest()
    assert base64.b64decode(query["sign"][0]) == expected
    # The base64 (+, /, =) is URL-encoded in the URL itself.
    assert "+" not in url.query and "/" not in url.query.split("sign=")[1]


def test_feishu_robot_gets_a_post_with_one_paragraph_per_line():
    [request] = build("feishu_robot", [message("Shipped\ntoday")])

    assert body(request) == {
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": "Order 1024 · 王女士",
                    "content": [
                        [{"tag": "text", "text": "09:30 Alice: Shipped"}],
                        [{"tag": "text", "text": "today"}],
                    ],
                }
            }
        },
    }


def test_feishu_body_is_signed_as_documented():
    [request] = build("feishu_robot", [message()], secret="feishu-secret")

    sent = body(request)
    assert sent["timestamp"] == str(int(NOW.timestamp()))
    key = f"{sent['timestamp']}\nfeishu-secret".encode()
    expected = hmac.new(key, b"", hashlib.sha256).digest()
    assert base64.b64decode(sent["sign"]) == expected
    assert request.url == FEISHU_URL


def test_slack_gets_a_mrkdwn_section_and_a_fallback_text():
    [request] = build("slack", [message("Shipped today")])

    assert body(request) == {
        "text": "Order 1024 · 王女士",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Order 1024 · 王女士*\n`09:30` *Alice*: Shipped today",
                },
            }
        ],
    }


def test_slack_escapes_its_control_characters_so_text_cannot_mention_or_link():
    evil = "Hi <!channel> <@U123> <https://evil.example|bank> a&b"
    [request] = build("slack", [message(evil, sender_name="<!here>")])

    text = body(request)["blocks"][0]["text"]["text"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|bank&gt; a&amp;b" in text
    assert "*&lt;!here&gt;*" in text


def test_slack_escapes_the_group_name_in_the_fallback_text():
    [request] = build("slack", [message(group_name="A <!everyone> group")])

    assert body(request)["text"] == "A &lt;!everyone&gt; group"


@pytest.mark.parametrize("channel_type", ["wecom_robot", "dingtalk_robot"])
def test_robot_markdown_text_cannot_mention_link_or_color(channel_type):
    evil = '<@wangqing> [click](https://evil.example) ![x](https://img) <font color="info">'
    [request] = build(channel_type, [message(evil)])

    sent = body(request)
    text = sent["markdown"].get("content") or sent["markdown"]["text"]
    assert "<@" not in text and "](" not in text and '<font color="info">' not in text
    assert unescape(channel_type, text).endswith(evil)


def test_local_time_follows_the_chain_timezone():
    [request] = build_requests(
        "slack", SLACK_URL, None, [message()], timezone="America/New_York", now=NOW
    )

    assert "`20:30`" in body(request)["blocks"][0]["text"]["text"]


def test_no_messages_no_requests():
    assert build("wecom_robot", []) == []


def test_unknown_channel_type_is_refused():
    with pytest.raises(ValueError):
        build_requests("telegram", "https://t", None, [message()], timezone="UTC", now=NOW)


# --- webhook -----------------------------------------------------------------------------------


def test_webhook_sends_one_signed_request_per_message():
    secret = new_webhook_secret()
    now = datetime.now(UTC)
    first = message("Shipped", key="msg_a", payload={"order": "1024", "eta": "2026-12-01"})
    second = message("Thanks", key="msg_b", sender="customer", sender_name=None)

    requests = build("webhook", [first, second], secret=secret, now=now)

    assert len(requests) == 2
    for request, sent in zip(requests, (first, second), strict=True):
        assert request.url == "https://brand.example/hooks"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == "ChainCollab/1"
        assert request.headers["webhook-id"] == sent.key
        assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
        verified = Webhook(secret).verify(request.body, request.headers)
        assert verified == {
            "type": "message.posted",
            "timestamp": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "data": {
                "group": {"id": sent.group_id, "name": sent.group_name},
                "message": {
                    "id": sent.message_id,
                    "kind": sent.kind,
                    "sender": sent.sender,
                    "sender_name": sent.sender_name,
                    "text": sent.text,
                    "payload": sent.payload,
                    "created_at": "2026-11-23T01:30:00.000000Z",
                },
            },
        }


def test_webhook_signature_fails_for_another_secret():
    now = datetime.now(UTC)
    [request] = build("webhook", [message()], secret=new_webhook_secret(), now=now)

    with pytest.raises(Exception, match="signature"):
        Webhook(new_webhook_secret()).verify(request.body, request.headers)


def test_webhook_is_not_split():
    now = datetime.now(UTC)
    [request] = build("webhook", [message("长" * 4000)], secret=new_webhook_secret(), now=now)

    assert json.loads(request.body)["data"]["message"]["text"] == "长" * 4000


def test_webhook_without_a_secret_is_a_programming_error():
    with pytest.raises(ValueError):
        build("webhook", [message()])


# --- splitting ---------------------------------------------------------------------------------


def test_wecom_splits_a_burst_at_message_boundaries():
    texts = [f"第{i}条：" + "货已发出，请注意查收。" * 40 for i in range(12)]
    requests = build("wecom_robot", [message(text) for text in texts])

    assert len(requests) > 1
    assert_within_limits("wecom_robot", requests)
    contents = [body(request)["markdown"]["content"] for request in requests]
    total = len(requests)
    for number, content in enumerate(contents, 1):
        assert content.startswith(f"**Order 1024 · 王女士 ({number}/{total})**\n")
    # Each message fits a part, so each is whole in exactly one part, and in order.
    found = [i for content in contents for i, text in enumerate(texts) if text in content]
    assert found == list(range(12))


def test_wecom_hard_splits_a_single_huge_line_without_breaking_characters():
    text = "😀中文abc" * 2500  # one line, ~37 KB
    requests = build("wecom_robot", [message(text)])

    assert len(requests) >= 9
    assert_within_limits("wecom_robot", requests)
    joined = "".join("".join(part_lines("wecom_robot", body(r))) for r in requests)
    assert joined.endswith(text)


def test_wecom_message_with_many_lines_splits_between_lines():
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    requests = build("wecom_robot", [message("\n".join(lines))])

    assert len(requests) > 1
    assert_within_limits("wecom_robot", requests)
    sent = [line for r in requests for line in part_lines("wecom_robot", body(r))]
    assert sent[0].endswith(lines[0])
    assert sent[1:] == lines[1:]


@pytest.mark.parametrize("channel_type", ["dingtalk_robot", "feishu_robot", "slack"])
def test_other_chat_tools_split_within_their_limits(channel_type):
    text = '"引号"\\\t' * 3000 + "\n" + "🚚" * 3000  # JSON escapes and astral characters
    requests = build(channel_type, [message(text)], secret=None)

    assert len(requests) > 1
    assert_within_limits(channel_type, requests)
    titles = [title_of(channel_type, body(r)) for r in requests]
    assert titles[-1].endswith(f"({len(requests)}/{len(requests)})")


def test_feishu_signed_parts_are_each_signed_and_within_the_limit():
    requests = build("feishu_robot", [message("字" * 20000)], secret="s3cret")

    assert len(requests) > 1
    assert_within_limits("feishu_robot", requests)
    assert all("sign" in body(r) for r in requests)


def test_many_parts_have_room_for_wide_markers():
    # Each message fits a part, two do not: a part each.
    requests = build("slack", [message("a" * 2900) for _ in range(12)])

    assert len(requests) == 12
    assert_within_limits("slack", requests)
    assert title_of("slack", body(requests[9])) == "Order 1024 · 王女士 (10/12)"


def _text_of_length(seed: str, length: int) -> str:
    return (seed * (length // len(seed) + 1))[:length] if seed else ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    channel_type=st.sampled_from(["wecom_robot", "dingtalk_robot", "feishu_robot", "slack"]),
    seed=st.text(min_size=1, max_size=40),
    length=st.integers(min_value=0, max_value=30000),
)
def test_parts_are_within_the_limit_and_lose_no_character(channel_type, seed, length):
    text = _text_of_length(seed, length)
    requests = build(channel_type, [message(text)])
    [empty] = build(channel_type, [message("")])

    assert_within_limits(channel_type, requests)
    prefix = "".join(part_lines(channel_type, body(empty)))
    sent = "".join(
        unescape(channel_type, "".join(part_lines(channel_type, body(r)))) for r in requests
    )
    # Line breaks may become part boundaries; every other character arrives once, in order.
    assert sent == unescape(channel_type, prefix) + text.replace("\n", "")
    if len(requests) > 1:
        titles = [title_of(channel_type, body(r)) for r in requests]
        assert all(t.endswith(f"({i}/{len(requests)})") for i, t in enumerate(titles, 1))


# --- replies -----------------------------------------------------------------------------------


def reply(channel_type, status=200, answer=b"", headers=None):
    if isinstance(answer, dict):
        answer = json.dumps(answer).encode()
    return read_reply(channel_type, status, headers or {}, answer, now=NOW)


@pytest.mark.parametrize("channel_type", ["wecom_robot", "dingtalk_robot"])
def test_robot_errcode_zero_is_success(channel_type):
    assert reply(channel_type, 200, {"errcode": 0, "errmsg": "ok"}).ok


def test_wecom_45009_is_rate_limited():
    answer = reply("wecom_robot", 200, {"errcode": 45009, "errmsg": "api freq out of limit"})

    assert not answer.ok and answer.rate_limited
    assert answer.error == "errcode 45009: api freq out of limit"


def test_dingtalk_130101_is_rate_limited():
    answer = reply("dingtalk_robot", 200, {"errcode": 130101, "errmsg": "send too fast"})

    assert not answer.ok and answer.rate_limited


def test_wecom_93000_is_a_failure_with_its_reason():
    errmsg = (
        "invalid webhook url, hint: [1714538355214402498975046], from ip: 119.2.196.241, "
        "more info at https://open.work.weixin.qq.com/devtool/query?e=93000"
    )
    answer = reply("wecom_robot", 200, {"errcode": 93000, "errmsg": errmsg})

    assert answer == answer.__class__(ok=False, error="errcode 93000: invalid webhook url")


@pytest.mark.parametrize(
    "answer", [{"code": 0, "msg": "success", "data": {}}, {"StatusCode": 0, "StatusMessage": "ok"}]
)
def test_feishu_code_zero_or_old_status_code_zero_is_success(answer):
    assert reply("feishu_robot", 200, answer).ok


def test_feishu_11232_is_rate_limited():
    answer = reply("feishu_robot", 200, {"code": 11232, "msg": "frequency limited"})

    assert answer.rate_limited and answer.error == "code 11232: frequency limited"


def test_feishu_sign_failure_is_a_failure():
    answer = reply(
        "feishu_robot",
        200,
        {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
    )

    assert not answer.ok and not answer.rate_limited and answer.error.startswith("code 19021")


@pytest.mark.parametrize("channel_type", ["wecom_robot", "dingtalk_robot", "feishu_robot"])
def test_robot_200_without_json_is_not_success(channel_type):
    answer = reply(channel_type, 200, b"<html>maintenance</html>")

    assert answer == answer.__class__(ok=False, error="HTTP 200 but not JSON")


def test_robot_200_without_a_code_is_not_success():
    assert not reply("wecom_robot", 200, {"hello": "world"}).ok
    assert not reply("dingtalk_robot", 200, b"[]").ok


@pytest.mark.parametrize("channel_type", ["slack", "webhook"])
def test_slack_and_webhook_take_any_2xx(channel_type):
    assert reply(channel_type, 200, b"ok").ok
    assert reply(channel_type, 204).ok


@pytest.mark.parametrize("channel_type", CHANNEL_TYPES)
def test_429_is_rate_limited_with_retry_after_seconds(channel_type):
    answer = reply(channel_type, 429, b"", {"Retry-After": "30"})

    assert answer.rate_limited and not answer.ok and answer.retry_after == 30.0


def test_retry_after_as_an_http_date_is_relative_to_now():
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    answer = reply("slack", 429, b"rate_limited", {"retry-after": later})

    assert answer.retry_after == 90.0


@pytest.mark.parametrize("value", ["soon", "", "-5", "nan", "Tue, 99 Foo 2026"])
def test_garbled_retry_after_is_ignored(value):
    answer = reply("webhook", 429, b"", {"Retry-After": value})

    assert answer.rate_limited and answer.retry_after is None


def test_retry_after_in_the_past_is_now():
    earlier = format_datetime(NOW - timedelta(minutes=5), usegmt=True)

    assert reply("webhook", 503, b"", {"Retry-After": earlier}).retry_after == 0.0


@pytest.mark.parametrize("channel_type", CHANNEL_TYPES)
def test_410_is_gone(channel_type):
    answer = reply(channel_type, 410, b"channel_is_archived")

    assert answer.gone and not answer.ok
    assert answer.error == "HTTP 410: channel_is_archived"


def test_500_is_a_failure():
    assert reply("webhook", 500) == reply("webhook", 500).__class__(ok=False, error="HTTP 500")
    assert reply("webhook", 502, b"<html><body>Bad gateway</body></html>").error == "HTTP 502"


def test_slack_error_text_is_kept_as_the_reason():
    assert reply("slack", 404, b"no_service").error == "HTTP 404: no_service"


@pytest.mark.parametrize("channel_type", CHANNEL_TYPES)
def test_redirect_is_a_failure(channel_type):
    answer = reply(channel_type, 302, b"", {"Location": "https://elsewhere.example"})

    assert not answer.ok and not answer.gone
    assert answer.error == "HTTP 302: redirect not followed"


# --- secrets -----------------------------------------------------------------------------------


def test_webhook_secret_is_optional_and_validated():
    key = base64.b64encode(bytes(range(32))).decode()

    assert validate_secret("webhook", None) is None
    assert validate_secret("webhook", "") is None
    assert validate_secret("webhook", f"  whsec_{key} ") == f"whsec_{key}"
    # Unpadded base64 is taken and stored padded.
    assert validate_secret("webhook", "whsec_" + key.rstrip("=")) == f"whsec_{key}"


@pytest.mark.parametrize(
    "secret",
    [
        "not-a-secret",
        "whsec_",
        "whsec_!!!notbase64!!!",
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(bytes(65)).decode(),
    ],
)
def test_bad_webhook_secret_is_invalid(secret):
    with pytest.raises(Invalid) as raised:
        validate_secret("webhook", secret)

    assert "secret" in raised.value.details["fields"]


def test_dingtalk_secret_starts_with_sec():
    assert validate_secret("dingtalk_robot", None) is None
    assert validate_secret("dingtalk_robot", DINGTALK_SECRET) == DINGTALK_SECRET
    with pytest.raises(Invalid):
        validate_secret("dingtalk_robot", "0f" * 32)


def test_feishu_secret_is_a_short_free_string():
    assert validate_secret("feishu_robot", None) is None
    assert validate_secret("feishu_robot", "aBc123xyz") == "aBc123xyz"
    with pytest.raises(Invalid):
        validate_secret("feishu_robot", "x" * 201)


@pytest.mark.parametrize("channel_type", ["wecom_robot", "slack"])
def test_wecom_and_slack_refuse_a_secret(channel_type):
    assert validate_secret(channel_type, None) is None
    with pytest.raises(Invalid) as raised:
        validate_secret(channel_type, "anything")

    assert list(raised.value.details["fields"]) == ["secret"]


def test_new_webhook_secret_is_24_random_bytes_and_valid():
    secret = new_webhook_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert validate_secret("webhook", secret) == secret
    assert new_webhook_secret() != secret


# --- excerpt -----------------------------------------------------------------------------------


def test_excerpt_decodes_leniently_and_trims():
    assert excerpt(b"ok") == "ok"
    assert excerpt("错".encode() * 600) == "错" * 500
    assert excerpt(b"\xff\xfeabc", limit=3) == "\ufffd\ufffda"
    assert "\x00" not in excerpt(b"a\x00b")
