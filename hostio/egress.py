"""Which addresses Hot code may connect to.

Handler code is tenant code: by default it may not reach this machine, the private networks
around it or cloud metadata services. Every connection is checked on the address it will
actually use — the host is resolved once, each resolved address is checked, and the
connection is made to a checked address — so a name that resolves to a public address for the
check and a private one for the connection (DNS rebinding) does not get through. Redirects
are checked the same way, hop by hop (see http.py).

Operators who need internal hosts allow them explicitly: an allowlist entry is a host name
(`api.internal`, or `*.internal` for its subdomains), an address, or a network in CIDR
notation (`10.1.0.0/16`), optionally with a port (`127.0.0.1:8080`).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

# Besides every non-global address (loopback, private, link-local, shared, reserved, ...),
# these are refused even where they count as global.
_ALWAYS_BLOCKED = [
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
]
# RFC 6761: names that never resolve on the public DNS; answered here without a query
_RESERVED_SUFFIXES = (".invalid", ".test", ".example", ".local")


class EgressDenied(Exception):
    """The destination is not allowed by the egress policy."""


class ResolveError(Exception):
    """The host name does not resolve."""


def _parse_entry(entry):
    entry = entry.strip()
    host, port = entry, None
    if entry.count(":") == 1 and not entry.startswith("["):
        host, _, p = entry.partition(":")
        port = int(p)
    elif entry.startswith("[") and "]:" in entry:
        host, _, p = entry[1:].partition("]:")
        port = int(p)
    host = host.strip("[]").lower()
    try:
        return ("net", ipaddress.ip_network(host, strict=False), port)
    except ValueError:
        return ("name", host, port)


@dataclass
class EgressPolicy:
    """`allow`: entries that are reachable even if private (see the module docstring).
    `allow_private`: no address restriction at all (a trusted, single-tenant install)."""

    allow: list[str] = field(default_factory=list)
    allow_private: bool = False

    def __post_init__(self):
        self._rules = [_parse_entry(e) for e in self.allow if e.strip()]

    def _allowed_name(self, host, port):
        for kind, value, p in self._rules:
            if kind != "name" or (p is not None and p != port):
                continue
            if host == value or (value.startswith("*.") and host.endswith(value[1:])):
                return True
        return False

    def _allowed_address(self, address, port):
        return any(
            kind == "net" and address in value and (p is None or p == port)
            for kind, value, p in self._rules
        )

    def check_address(self, host, address, port):
        """Raise EgressDenied unless address (resolved from host) may be connected to."""
        ip = ipaddress.ip_address(address)
        if self.allow_private or self._allowed_name(host, port):
            return
        if self._allowed_address(ip, port):
            return
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or any(ip in net for net in _ALWAYS_BLOCKED):
            raise EgressDenied(
                f"connection to {host} ({address}) refused: private, loopback, link-local and "
                "metadata addresses are not reachable from Hot code (see HOT_EGRESS_ALLOW)"
            )

    def resolve(self, host, port):
        """The addresses to connect to for host:port, every one of them allowed."""
        host = host.strip("[]").lower()
        if not host:
            raise ResolveError("empty host name")
        if host.endswith(_RESERVED_SUFFIXES) or host in ("invalid", "test"):
            raise ResolveError(f"cannot resolve host '{host}': a reserved name")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise ResolveError(f"cannot resolve host '{host}': {e}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            self.check_address(host, address, port)
        return addresses
