"""Registering, verifying and removing custom domains.

A domain is registered as ``pending_validation`` with a random token. Its owner publishes the
token as a TXT record at ``_hot-challenge.<domain>``; verification looks the record up in DNS
and marks the domain ``validated``. When the service knows the host its traffic arrives at
(``HOT_DOMAIN_TARGET``), a domain whose CNAME points there is ``active``. Any environment may
register a name; only one can prove it (a unique constraint on verified domains).
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hotapi.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import dns
from .models import Domain

CHALLENGE_LABEL = "_hot-challenge"
CHALLENGE_PREFIX = "hot-domain-verification="
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Verification:
    domain: Domain
    message: str


def challenge_name(domain: Domain) -> str:
    return f"{CHALLENGE_LABEL}.{domain.domain}"


def challenge_value(domain: Domain) -> str:
    return f"{CHALLENGE_PREFIX}{domain.validation_token}"


def normalized_domain(raw: str) -> str:
    """A lowercase host name of at least two labels (IDNs in their ``xn--`` form)."""
    name = raw.strip().lower().removesuffix(".")
    problem = None
    if "://" in name or "/" in name:
        problem = "give the host name only, without a scheme or a path"
    elif not name.isascii():
        problem = "write an internationalized name in its ASCII (xn--) form"
    elif len(name) > 253 or "." not in name:
        problem = "must be a host name of at most 253 characters with at least one dot"
    elif not all(_LABEL.match(label) for label in name.split(".")):
        problem = (
            "each label must be 1-63 letters, digits or hyphens, not starting or ending with -"
        )
    elif name.rsplit(".", 1)[1].isdigit():
        problem = "must be a host name, not an IP address"
    if problem:
        raise InvalidInput(f"Invalid domain name: {problem}", details={"domain": [problem]})
    return name


def domain_create(*, environment, domain: str) -> Domain:
    name = normalized_domain(domain)
    with transaction.atomic():
        count = Domain.objects.filter(environment=environment).count()
        if count >= settings.HOT_DOMAINS_PER_ENVIRONMENT:
            raise Forbidden(
                f"This environment has {count} domains, the most allowed; delete one first",
                code="domain_limit_reached",
            )
        try:
            with transaction.atomic():
                return Domain.objects.create(
                    environment=environment, domain=name, validation_token=secrets.token_hex(16)
                )
        except IntegrityError:
            raise Conflict(
                f"Domain '{name}' is already registered in this environment", code="domain_exists"
            ) from None


def domain_delete(*, domain: Domain) -> None:
    """Removed at once: nothing is provisioned for a domain, so there is nothing to clean up."""
    domain.delete()


def domain_verify(*, domain: Domain) -> Verification:
    """Look the validation record up (and the traffic record once validated); record what was
    found. DNS being unreachable is reported in the message, never as an error."""
    now = timezone.now()
    try:
        if not domain.is_verified:
            message = _check_ownership(domain, now)
        if domain.is_verified:
            message = _check_traffic(domain, now)
    except dns.DnsUnavailable as exc:
        message = f"DNS lookup failed, try again later: {exc}"
    domain.checked_at = now
    domain.check_message = message
    _save_found(domain, ["status", "activated_at", "checked_at", "check_message"])
    return Verification(domain=domain, message=message)


def _save_found(domain: Domain, fields: list[str]) -> None:
    """Write ``fields`` of a domain that may have been deleted during the (slow) DNS lookup:
    a vanished row is the caller's 404, not a failed save."""
    domain.updated_at = timezone.now()
    values = {field: getattr(domain, field) for field in [*fields, "updated_at"]}
    if not Domain.objects.filter(pk=domain.pk).update(**values):
        raise NotFound("Domain not found")


def _check_ownership(domain: Domain, now) -> str:
    name, expected = challenge_name(domain), challenge_value(domain)
    if expected not in dns.txt_values(name):
        return f"Waiting for DNS validation: add a TXT record {name} with the value {expected}"
    domain.verified_at = now
    domain.status = Domain.Status.VALIDATED
    try:
        with transaction.atomic():
            _save_found(domain, ["verified_at", "status"])
    except IntegrityError:
        domain.verified_at, domain.status = None, Domain.Status.PENDING_VALIDATION
        raise Conflict(
            f"Domain '{domain.domain}' is already verified by another environment",
            code="domain_exists",
        ) from None
    return "Ownership validated."


def _check_traffic(domain: Domain, now) -> str:
    target = settings.HOT_DOMAIN_TARGET.lower().removesuffix(".")
    if not target:
        return "Validated. Point the domain at this service to serve traffic through it."
    actual = dns.cname_target(domain.domain)
    if actual == target:
        if domain.status != Domain.Status.ACTIVE:
            domain.status, domain.activated_at = Domain.Status.ACTIVE, now
        return "Domain is active: its CNAME points at this service."
    domain.status, domain.activated_at = Domain.Status.VALIDATED, None
    found = f"it points at {actual}" if actual else "no CNAME record was found"
    return f"Validated. Add a CNAME record {domain.domain} -> {target} ({found})."
