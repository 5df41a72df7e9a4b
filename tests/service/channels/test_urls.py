"""The outbound URL policy: pushes reach public hosts, never our own network (SSRF)."""

from __future__ import annotations

import socket

import pytest

from service.channels.urls import BlockedUrl, OutboundPolicy, check_url, validate_channel_url
from service.config import Config
from service.errors import Invalid

STRICT = OutboundPolicy()
# What the tests' config allows: the receivers the tests start on loopback.
LOOPBACK = OutboundPolicy.from_config(Config(outbound_allowed_networks=("127.0.0.0/8", "::1/128")))


def reason(call, *args, **kwargs) -> str:
    with pytest.raises(BlockedUrl) as blocked:
        call(*args, **kwargs)
    return blocked.value.reason


@pytest.fixture
def no_dns(monkeypatch):
    """Fails the test if anything is resolved: public names resolve to what the test says."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "203.0.114.7", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    STRICT.check_address(address)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.1.2.3", "private and loopback addresses are not allowed"),
        ("172.16.0.1", "private and loopback addresses are not allowed"),
        ("172.31.255.254", "private and loopback addresses are not allowed"),
        ("192.168.1.1", "private and loopback addresses are not allowed"),
        ("127.0.0.1", "private and loopback addresses are not allowed"),
        ("127.255.0.9", "private and loopback addresses are not allowed"),
        ("::1", "private and loopback addresses are not allowed"),
        ("fe80::1", "private and loopback addresses are not allowed"),
        ("fe80::1%eth0", "private and loopback addresses are not allowed"),
        ("fc00::1", "private and loopback addresses are not allowed"),
        ("fd12:3456::1", "private and loopback addresses are not allowed"),
        ("169.254.169.254", "private and loopback addresses are not allowed"),  # cloud metadata
        ("100.64.0.1", "private and loopback addresses are not allowed"),
        ("::ffff:10.0.0.1", "private and loopback addresses are not allowed"),
        ("::ffff:127.0.0.1", "private and loopback addresses are not allowed"),
        ("2002:a00:1::1", "private and loopback addresses are not allowed"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "private and loopback addresses are not allowed"),  # NAT64
        ("0.0.0.0", "the unspecified address is not allowed"),
        ("::", "the unspecified address is not allowed"),
        ("224.0.0.1", "multicast addresses are not allowed"),
        ("ff02::1", "multicast addresses are not allowed"),
        ("240.0.0.1", "reserved addresses are not allowed"),
        ("255.255.255.255", "reserved addresses are not allowed"),
        ("192.0.2.1", "reserved addresses are not allowed"),  # documentation
        ("0.1.2.3", "reserved addresses are not allowed"),
        ("not-an-ip", "the host is not a valid IP address"),
    ],
)
def test_non_public_addresses_are_refused(address, expected):
    assert reason(STRICT.check_address, address) == expected


def test_allowed_networks_let_their_addresses_through_and_no_others():
    LOOPBACK.check_address("127.0.0.1")
    LOOPBACK.check_address("127.4.5.6")
    LOOPBACK.check_address("::1")
    LOOPBACK.check_address("::ffff:127.0.0.1")
    for address in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1"):
        with pytest.raises(BlockedUrl):
            LOOPBACK.check_address(address)


def test_the_policy_reads_the_configured_networks():
    policy = OutboundPolicy.from_config(Config(outbound_allowed_networks=("10.1.0.0/16",)))
    policy.check_address("10.1.2.3")
    assert reason(policy.check_address, "10.2.0.1")
    assert OutboundPolicy.from_config(Config()) == OutboundPolicy()


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "http://8.8.8.8:8080/hook?key=1#x",
        "https://[2606:4700:4700::1111]/hook",
        "HTTPS://8.8.8.8/",
    ],
)
def test_urls_of_public_addresses_pass(url):
    check_url(url, STRICT)


def test_a_name_passes_when_all_its_addresses_are_public(no_dns):
    no_dns["qyapi.weixin.qq.com"] = ["8.8.8.8", "2606:4700:4700::1111"]
    check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", STRICT)


def test_a_name_fails_when_any_of_its_addresses_is_private(no_dns):
    no_dns["rebind.example"] = ["8.8.8.8", "10.0.0.7"]
    assert (
        reason(check_url, "https://rebind.example/x", STRICT)
        == "private and loopback addresses are not allowed"
    )


def test_a_name_that_does_not_resolve_is_refused(no_dns):
    assert reason(check_url, "https://nowhere.example/x", STRICT) == "host does not resolve"


def test_without_resolve_names_are_not_looked_up(no_dns):
    check_url("https://nowhere.example/x", STRICT, resolve=False)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://8.8.8.8/x", "only http and https URLs are allowed"),
        ("file:///etc/passwd", "only http and https URLs are allowed"),
        ("gopher://8.8.8.8/", "only http and https URLs are allowed"),
        ("8.8.8.8/hook", "only http and https URLs are allowed"),
        ("https://user:pass@8.8.8.8/", "user names and passwords in the URL are not allowed"),
        ("https://user@8.8.8.8/", "user names and passwords in the URL are not allowed"),
        ("http://8.8.8.8\\@127.0.0.1/", "user names and passwords in the URL are not allowed"),
        ("https:///path", "the URL has no host"),
        ("https://:443/path", "the URL has no host"),
        ("https://8.8.8.8:99999/", "the URL is not valid (check the host and port)"),
        ("https://8.8.8.8:http/", "the URL is not valid (check the host and port)"),
        ("https://8.8.8.8:0/", "the URL is not valid (check the host and port)"),
        ("https://[::1/", "the URL is not valid (check the host and port)"),
        ("https://8.8.8.8/a b", "the URL must not contain spaces or control characters"),
        ("https://8.8.8.8/\r\nHost: x", "the URL must not contain spaces or control characters"),
        ("https://8.8.8.8/" + "a" * 2000, "the URL is longer than 2000 characters"),
        ("https://a..b/", "the host name is not valid"),
        ("https://-a.example/", "the host name is not valid"),
        ("https://127.0.0.1\\x.example/", "the host name is not valid"),
        ("https://1.2.3.4.5/", "the host is not a valid IP address"),
    ],
)
def test_malformed_urls_are_refused(url, expected, no_dns):
    assert reason(check_url, url, STRICT) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://127.0.0.1:6379/",
        "http://[::1]:8080/",
        "http://[fe80::1%25eth0]/",
        "http://[::ffff:10.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:5000/",
        "http://100.64.0.1/",
    ],
)
def test_urls_of_private_addresses_are_refused_even_without_resolving(url):
    with pytest.raises(BlockedUrl):
        check_url(url, STRICT, resolve=False)


@pytest.mark.parametrize(
    "host", ["127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "017700000001", "127.0.0.1."]
)
def test_other_spellings_of_loopback_are_refused(host):
    """Resolvers read these as 127.0.0.1; so does the policy, with or without resolving."""
    for resolve in (True, False):
        assert (
            reason(check_url, f"http://{host}/", STRICT, resolve=resolve)
            == "private and loopback addresses are not allowed"
        )


def test_a_name_resolving_to_loopback_is_refused():
    # Real resolution (localhost is in /etc/hosts, no network needed): however it is spelt,
    # the name is refused as a local name before its addresses are looked at.
    assert socket.getaddrinfo("localhost", 80)
    for url in ("http://localhost:8080/x", "http://LOCALHOST./x", "http://app.localhost/"):
        assert reason(check_url, url, STRICT) == (
            "local host names such as localhost are not allowed"
        )


def test_a_name_resolving_to_a_private_address_is_refused(no_dns):
    no_dns["intranet.example.com"] = ["192.168.3.4"]
    assert (
        reason(check_url, "http://intranet.example.com/", STRICT)
        == "private and loopback addresses are not allowed"
    )


@pytest.mark.parametrize("host", ["metadata.google.internal", "printer.local", "x.localhost"])
def test_local_names_are_refused_without_resolving(host, no_dns):
    # no_dns would answer 8.8.8.8: the name alone is enough to refuse.
    no_dns[host] = ["8.8.8.8"]
    for resolve in (True, False):
        assert reason(check_url, f"http://{host}/", STRICT, resolve=resolve) == (
            "local host names such as localhost are not allowed"
        )


def test_local_names_pass_when_they_resolve_into_an_allowed_network():
    check_url("http://localhost:8080/x", LOOPBACK)
    check_url("http://localhost:8080/x", LOOPBACK, resolve=False)


def test_local_names_resolving_outside_the_allowed_networks_are_refused(no_dns):
    no_dns["svc.internal"] = ["127.0.0.1", "8.8.8.8"]
    assert reason(check_url, "http://svc.internal/", LOOPBACK)
    assert reason(check_url, "http://nothere.internal/", LOOPBACK)


def test_allowed_networks_let_loopback_urls_through():
    check_url("http://127.0.0.1:5000/hook", LOOPBACK)
    check_url("http://[::1]:5000/hook", LOOPBACK)
    check_url("http://127.1/", LOOPBACK)
    with pytest.raises(BlockedUrl):
        check_url("http://10.0.0.1/", LOOPBACK)


def test_validate_channel_url_strips_and_names_the_field(no_dns):
    no_dns["hooks.example.com"] = ["8.8.8.8"]
    assert (
        validate_channel_url("  https://hooks.example.com/x \n", STRICT)
        == "https://hooks.example.com/x"
    )
    with pytest.raises(Invalid) as invalid:
        validate_channel_url("http://10.0.0.1/", STRICT)
    assert invalid.value.details == {
        "fields": {
            "url": [
                "private and loopback addresses are not allowed (the server's "
                "OUTBOUND_ALLOWED_NETWORKS setting can allow a network)"
            ]
        }
    }
    assert invalid.value.status == 422


def test_validate_channel_url_accepts_a_name_that_does_not_resolve_yet(no_dns):
    assert validate_channel_url("https://soon.example.com/x", STRICT) == (
        "https://soon.example.com/x"
    )


def test_validate_channel_url_checks_what_a_name_resolves_to(no_dns):
    no_dns["intranet.example.com"] = ["10.9.8.7"]
    with pytest.raises(Invalid):
        validate_channel_url("https://intranet.example.com/", STRICT)


@pytest.mark.parametrize(
    "url",
    ["ftp://8.8.8.8/", "https://u:p@8.8.8.8/", "http://localhost/", "http://127.1/", "http:///"],
)
def test_validate_channel_url_refuses_what_needs_no_dns(url, no_dns):
    with pytest.raises(Invalid):
        validate_channel_url(url, STRICT)
