"""``Idempotency-Key``: a retried POST gets the first answer instead of doing the work twice.

A request carrying the header runs in one transaction that first inserts the key's record
(unique per environment). A concurrent request with the same key waits on that insert until
the first commits, then finds the record; so concurrent duplicates do the work once. The
record stores the first successful (2xx) answer; its status and ``data`` are replayed, with
the header ``Idempotent-Replayed: true``, for ``HOT_IDEMPOTENCY_KEY_TTL_SECONDS`` (24 h).
The same key with a different method, path or body is 409 ``idempotency_key_reused``. A
request that fails (4xx, 5xx) leaves no record: its transaction, key included, is rolled back,
and it may be retried with the same key.
"""

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from hotapi.errors import Conflict, InvalidInput
from hotapi.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # 1-255 visible ASCII characters
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Replay the first answer to a retried request (24 h); see docs/api.md",
    pattern=_KEY_PATTERN,
)
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(_KEY_PATTERN)


class _NotStored(Exception):
    """Carries a non-2xx answer out of the transaction, which then rolls back."""

    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(environment_id, key: str, fingerprint: str) -> Response | None:
    """The stored answer for ``key``, or None once this request holds the key."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.HOT_IDEMPOTENCY_KEY_TTL_SECONDS)
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                environment_id=environment_id,
                key=key,
                fingerprint=fingerprint,
                status_code=0,
                expires_at=expires_at,
            )
        return None
    except IntegrityError:
        record = IdempotencyRecord.objects.get(environment_id=environment_id, key=key)
    if record.expires_at <= now:  # expired but not yet pruned: the key is free again
        record.delete()
        return _replay(environment_id, key, fingerprint)
    if record.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request",
            code="idempotency_key_reused",
        )
    return Response(record.response, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def idempotent(view_method):
    """Honour ``Idempotency-Key`` on a view method (a POST that creates something)."""

    @wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.META.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise InvalidInput("Idempotency-Key must be 1-255 visible ASCII characters")
        environment_id = request.auth.environment.pk
        try:
            with transaction.atomic():
                replayed = _replay(environment_id, key, _fingerprint(request))
                if replayed is not None:
                    return replayed
                response = view_method(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _NotStored(response)
                IdempotencyRecord.objects.filter(environment_id=environment_id, key=key).update(
                    status_code=response.status_code, response=response.data
                )
                return response
        except _NotStored as refused:
            return refused.response

    return wrapper


def prune_idempotency_records() -> int:
    """Forget keys past their time (the maintenance loop's job)."""
    return IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()[0]
