"""Requests that carry no valid credentials are throttled per client address.

The environment throttle (``throttling.py``) counts what a key does; a client without a valid
key (a brute force, a scanner, a misconfigured script) was never counted, and each of its
requests still cost a key lookup. Here every API request that ends unauthenticated (a 401, an
unknown route, a public page) counts against ``HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR`` for its
address (``REMOTE_ADDR``: run the server with ``--forwarded-allow-ips`` behind a proxy). Past
the budget, the address gets 429 for the rest of the hour before anything else runs, valid key
or not: a guess that happens to succeed must gain nothing.

Counts are shared (Redis) like the environment throttle's, and fall back to per-process
counts the same way while Redis is down; each process remembers the addresses it found over
budget, so a blocked request costs no round trip.
"""

from django.conf import settings

from .exceptions import json_error_response
from .middleware import is_api_path
from .throttling import HOUR, clock, count_request

_MAX_REMEMBERED = 10_000


class UnauthenticatedThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._blocked_until: dict[str, float] = {}

    def __call__(self, request):
        limit = settings.HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR
        if limit <= 0 or not is_api_path(request.path_info):
            return self.get_response(request)
        address = request.META.get("REMOTE_ADDR", "")
        now = clock()
        until = self._blocked_until.get(address, 0)
        if until > now:
            return self._refuse(request, until - now)
        response = self.get_response(request)
        # DRF copies a successful authentication onto the Django request.
        if getattr(request, "auth", None) is None:
            self._count(address, now, limit)
        return response

    def _count(self, address: str, now: float, limit: int) -> None:
        if count_request(f"anon:{address}", burst=0, hourly=limit, now=now).hour_count > limit:
            if len(self._blocked_until) >= _MAX_REMEMBERED:
                self._blocked_until = {a: t for a, t in self._blocked_until.items() if t > now}
            self._blocked_until[address] = (int(now // HOUR) + 1) * HOUR

    @staticmethod
    def _refuse(request, wait: float):
        seconds = max(1, int(wait))
        response = json_error_response(
            request,
            429,
            "rate_limit_exceeded",
            f"Too many requests without valid credentials from this address. Retry after "
            f"{seconds} seconds.",
            retry_after=seconds,
        )
        response["Retry-After"] = str(seconds)
        return response
