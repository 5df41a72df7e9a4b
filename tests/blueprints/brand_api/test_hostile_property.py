"""Any JSON-ish body at any JSON door (every POST/PATCH/PUT of /api/v1 and /webhooks) is
answered with a 2xx or a 4xx in the error format, never a 500. The bodies mix every hostile
class: lone surrogates, NUL, huge integers, NaN, deep nesting, dates beyond year 9999,
bidirectional controls and invisible text, oversize strings; most start from a valid body
with one or more fields replaced, so that they reach the schemas and the domain."""

from __future__ import annotations

import json
import time
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.blueprints.brand_api.chain_world import API, assert_error, fill
from tests.blueprints.brand_api.test_errors import VALID_BODIES, own_path
from tests.blueprints.factory_webhooks.test_progress_webhook import sign

WRITE_METHODS = {"POST", "PATCH", "PUT"}
EXAMPLES_PER_DOOR = 40


class Raw:
    """A fragment of JSON text that no Python value serialises to (a 5,000-digit integer,
    nesting 1,000 deep)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}…)"


def encode(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    # ensure_ascii: a lone surrogate goes out as the escape a hostile client would send.
    return json.dumps(value)


hostile_chars = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\u202e", "\u2066", "\u200b", "\ufeff", "\x07", "\x1b",
     "\t", "\r\n", "=", "@", "😀", "上", "e\u0301", "/", "{", "}", "%s", "'"]
)  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=30),
    st.lists(hostile_chars, max_size=8).map("".join),
    st.builds(lambda c, n: c * n, hostile_chars, st.sampled_from([1, 200, 5000])),
    st.sampled_from(["", " ", "x" * 100_001, "9999-12-31T23:59:59-14:00",
                     "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z", "1e999", "NaN"]),
)  # fmt: skip
huge_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 0, -1]),
    st.sampled_from(["1" + "0" * 5000, "-" + "9" * 4301, "1e999", "-1e999", "NaN", "Infinity",
                     "1.5e308", "5e-324"]).map(Raw),
)  # fmt: skip
deep = st.sampled_from([65, 1000, 20_000]).map(lambda n: Raw("[" * n + "]" * n))
leaves = st.one_of(st.none(), st.booleans(), huge_numbers, hostile_text, st.floats(), deep)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def bodies(valid: dict) -> st.SearchStrategy[str]:
    """A valid body with some fields replaced or added, any JSON-ish value, or raw text."""
    keys = st.sampled_from(sorted(valid) or ["name"]) | hostile_text
    mutated = st.dictionaries(keys, values, min_size=1, max_size=4).map(
        lambda changes: encode({**valid, **changes})
    )
    return st.one_of(
        mutated,
        mutated,
        values.map(encode),
        st.sampled_from(['{"a": "\\ud800"}', '{"\\u0000": 1}', "[" * 5000, '{"a":', "\ufeff{}"]),
    )


def json_doors(app) -> list[tuple[object, str]]:
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if rule.rule.startswith((API + "/", "/webhooks/"))
        for method in sorted(rule.methods & WRITE_METHODS)
    ]


def _assert_handled(response, where) -> None:
    assert response.status_code < 500, (where, response.get_data(as_text=True)[:500])
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def _never_fails(send, valid: dict, where):
    @settings(
        max_examples=EXAMPLES_PER_DOOR,
        deadline=None,
        derandomize=True,  # the same examples in every run and process
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=bodies(valid))
    def door_never_fails(text):
        _assert_handled(send(text.encode("utf-8", "surrogatepass")), (where, text[:200]))

    door_never_fails()


def test_no_json_at_any_door_is_answered_with_500(app, acme, client):
    doors = json_doors(app)
    assert any(rule.rule.startswith("/webhooks/") for rule, _ in doors)
    assert len(doors) > 20
    factory_id, secret = acme.factory_id, acme.secrets[0]

    def signed(path, method):
        def send(data: bytes):
            webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
            headers = {
                "webhook-id": webhook_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(secret, webhook_id, timestamp, data),
            }
            return client.open(path, method=method, data=data, headers=headers,
                               content_type="application/json")  # fmt: skip

        return send

    def keyed(path, method):
        def send(data: bytes):
            return acme.tenant.open(method, path, data=data, content_type="application/json")

        return send

    for rule, method in doors:
        if rule.rule.startswith("/webhooks/"):
            path = fill(rule, {"factory_id": factory_id})
            valid = {"work_item": acme.work_item_ids[0], "milestone": "shipped"}
            send = signed(path, method)
        else:
            path = own_path(rule, acme)
            make_valid = VALID_BODIES.get((method, rule.rule))
            valid = make_valid(acme) if make_valid else {}
            send = keyed(path, method)
        _never_fails(send, valid, f"{method} {path}")
