"""DNS lookups for domain verification, through dnspython.

The resolver is the system's (``/etc/resolv.conf``) unless ``HOT_DNS_NAMESERVERS`` names
others (``host`` or ``host:port``); every lookup gives up after ``HOT_DNS_TIMEOUT_SECONDS``.
A name that does not exist or has no such record is an empty answer; a resolver that cannot
be reached (offline, refused, timed out) raises ``DnsUnavailable`` with the reason.
"""

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings


class DnsUnavailable(Exception):
    """No answer could be had from DNS."""


def _nameserver(spec: str) -> dns.nameserver.Do53Nameserver:
    host, _, port = spec.rpartition(":") if spec.count(":") == 1 else (spec, "", "")
    return dns.nameserver.Do53Nameserver(host or spec, int(port) if port else 53)


def _resolver() -> dns.resolver.Resolver:
    try:
        if settings.HOT_DNS_NAMESERVERS:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [_nameserver(spec) for spec in settings.HOT_DNS_NAMESERVERS]
        else:
            resolver = dns.resolver.Resolver()
    except dns.resolver.NoResolverConfiguration as exc:
        raise DnsUnavailable(f"no DNS resolver is configured ({exc})") from None
    resolver.lifetime = settings.HOT_DNS_TIMEOUT_SECONDS
    resolver.timeout = settings.HOT_DNS_TIMEOUT_SECONDS
    return resolver


def _answer(name: str, record_type: str):
    try:
        return _resolver().resolve(dns.name.from_text(name), record_type, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.LifetimeTimeout:
        raise DnsUnavailable(f"no answer for {name} {record_type} in time") from None
    except dns.resolver.NoNameservers as exc:
        raise DnsUnavailable(f"no name server answered for {name} {record_type}: {exc}") from None
    except dns.exception.DNSException as exc:
        raise DnsUnavailable(f"lookup of {name} {record_type} failed: {exc}") from None


def txt_values(name: str) -> list[str]:
    """The TXT records of ``name``, each as one string (its character-strings joined)."""
    return [b"".join(record.strings).decode(errors="replace") for record in _answer(name, "TXT")]


def cname_target(name: str) -> str | None:
    """Where ``name`` is a CNAME to (lowercase, without the final dot), or None."""
    for record in _answer(name, "CNAME"):
        return record.target.to_text(omit_final_dot=True).lower()
    return None
