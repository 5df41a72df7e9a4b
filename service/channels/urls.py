"""The outbound URL policy: where channels may push to.

Pushes go to URLs that brands type in (chat robots, their own callbacks), so a URL must not be
a way into our own network (SSRF): only http(s), no credentials, and every address the host
stands for must be publicly routable, or inside a network the operator allowed
(OUTBOUND_ALLOWED_NETWORKS).

A check resolves the name, and the HTTP client then resolves it again: a hostile DNS server may
answer differently the second time (DNS rebinding). The check is repeated before every send;
the sender should also refuse redirects (or check each hop) and, where it can, connect to the
addresses this module checked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NewType
from urllib.parse import urlsplit

from service.errors import Invalid

MAX_URL_LENGTH = 2000
SCHEMES = {"http": 80, "https": 443}
# Names that only mean something inside a host or a private network (RFC 6761, RFC 6762,
# and the ".internal" that cloud providers use).
LOCAL_NAMES = ("localhost",)
LOCAL_SUFFIXES = (".localhost", ".internal", ".local")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Private in the everyday sense: a network of one's own, or the host itself.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT, often used inside clouds
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local, deprecated but still routed by some
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# One label of a host name once IDNA-encoded; "_" is not valid DNS but real hosts use it.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
# A last label that makes the host an IPv4 address in the URL standard's eyes
# ("127.1", "0x7f.1", "2130706433"): resolvers read such names as addresses.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z")

# A channel URL that passed validate_channel_url: what the channel functions take, so that
# the check (DNS: slow) is made before the transaction that stores it begins.
CheckedUrl = NewType("CheckedUrl", str)


def resolve(name: str, port: int) -> list[str]:
    """The addresses `name` resolves to; empty when it does not."""
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        return []
    return sorted({info[4][0] for info in infos})


class BlockedUrl(Exception):
    """A URL outbound pushes may not go to; `reason` is fit to show to the brand.
    `by_address`: refused for the address it reaches, which the operator may allow."""

    def __init__(self, reason: str, *, by_address: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.by_address = by_address


@dataclass(frozen=True)
class OutboundPolicy:
    # Non-public networks pushes may reach anyway (the operator's own receivers).
    allowed_networks: tuple[_Network, ...] = ()
    # How names are resolved (tests put a resolver of their own here).
    resolve: Callable[[str, int], list[str]] = field(default=resolve, compare=False, repr=False)

    @classmethod
    def from_config(cls, config) -> OutboundPolicy:
        return cls(
            tuple(
                ipaddress.ip_network(net, strict=False) for net in config.outbound_allowed_networks
            )
        )

    def allows(self, address: _Address) -> bool:
        """Whether the address is inside one of the allowed networks."""
        return any(address in network for network in self.allowed_networks)

    def check_address(self, address: str) -> None:
        """Raise BlockedUrl unless the IP address is publicly routable or allowed."""
        try:
            # A scope ("fe80::1%eth0") says which interface, not which address.
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise BlockedUrl("the host is not a valid IP address") from None
        if self.allows(ip):
            return
        if ip.version == 6 and ip.ipv4_mapped is not None:
            # The same host as the IPv4 address it maps.
            return self.check_address(str(ip.ipv4_mapped))
        if ip.version == 6:
            # 6to4 and NAT64 addresses reach the IPv4 address inside them.
            embedded = ip.sixtofour or (
                ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
            )
            if embedded is not None:
                self.check_address(str(embedded))
        reason = _refusal(ip)
        if reason:
            raise BlockedUrl(reason, by_address=True)


def _refusal(ip: _Address) -> str | None:
    if ip.is_unspecified:
        return "the unspecified address is not allowed"
    if ip.is_multicast:
        return "multicast addresses are not allowed"
    if (
        ip.is_loopback
        or ip.is_link_local
        or any(ip.version == net.version and ip in net for net in _PRIVATE_NETWORKS)
    ):
        return "private and loopback addresses are not allowed"
    if not ip.is_global or ip.is_reserved:
        return "reserved addresses are not allowed"
    return None


def check_url(url: str, policy: OutboundPolicy, *, resolve: bool = True) -> None:
    """Raise BlockedUrl unless outbound pushes may go to `url`. With resolve, a host name must
    resolve, and every address it resolves to must pass the policy."""
    name = _checked_without_dns(url, policy)
    if name is not None and resolve:
        addresses = policy.resolve(*name)
        if not addresses:
            raise BlockedUrl("host does not resolve")
        for address in addresses:
            policy.check_address(address)


def validate_channel_url(url: str, policy: OutboundPolicy) -> CheckedUrl:
    """The URL a brand gave for a channel, stripped, or Invalid naming the field "url".
    A name that does not resolve yet is accepted: the check is repeated before every send.
    It may wait on DNS: call it before a transaction begins, not inside one."""
    url = url.strip()
    try:
        name = _checked_without_dns(url, policy)
        addresses = policy.resolve(*name) if name is not None else []
        for address in addresses:
            policy.check_address(address)
    except BlockedUrl as blocked:
        reason = blocked.reason
        if blocked.by_address:
            # Says where the way through is: a receiver of the operator's own network.
            reason += " (the server's OUTBOUND_ALLOWED_NETWORKS setting can allow a network)"
        raise Invalid.field("url", reason) from None
    return CheckedUrl(url)


def _checked_without_dns(url: str, policy: OutboundPolicy) -> tuple[str, int] | None:
    """Every check that needs no DNS. Returns (host name, port) when the name is still to be
    resolved, None when the host was checked in full (an IP address, a local name)."""
    if len(url) > MAX_URL_LENGTH:
        raise BlockedUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise BlockedUrl("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BlockedUrl("the URL is not valid (check the host and port)") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BlockedUrl("only http and https URLs are allowed")
    if "@" in parts.netloc:
        raise BlockedUrl("user names and passwords in the URL are not allowed")
    host = parts.hostname or ""
    if not host:
        raise BlockedUrl("the URL has no host")
    if port == 0:
        raise BlockedUrl("the URL is not valid (check the host and port)")
    port = port or SCHEMES[scheme]

    if ":" in host:  # only a bracketed IPv6 address has colons in its host
        policy.check_address(host)
        return None
    name = host.removesuffix(".")
    try:
        labels = name.encode("idna").decode("ascii").split(".")
    except UnicodeError:
        raise BlockedUrl("the host name is not valid") from None
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise BlockedUrl("the host name is not valid")
    if _NUMERIC_LABEL.match(labels[-1]):
        policy.check_address(_ipv4(name))
        return None
    if name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES):
        _check_local_name(name, port, policy)
        return None
    return name, port


def _ipv4(name: str) -> str:
    """A numeric host in any form IPv4 resolvers take ("127.1", "0x7f.0.0.1", "2130706433")."""
    try:
        return socket.inet_ntoa(socket.inet_aton(name))
    except OSError:
        raise BlockedUrl("the host is not a valid IP address") from None


def _check_local_name(name: str, port: int, policy: OutboundPolicy) -> None:
    """Local names pass only when everything they resolve to is in an allowed network."""
    refused = BlockedUrl("local host names such as localhost are not allowed")
    if not policy.allowed_networks:
        raise refused
    addresses = policy.resolve(name, port)
    if not addresses:
        raise refused
    for address in addresses:
        if not policy.allows(ipaddress.ip_address(address.split("%", 1)[0])):
            raise refused
