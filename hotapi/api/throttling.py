"""Per-environment request limits: an hourly quota and a per-second burst limit.

Both are atomic fixed windows. With ``REDIS_URL`` one Lua call counts a request in both
windows (a request refused by the burst limit is not charged to the hourly quota); without
Redis, or while Redis cannot be reached, the counts are kept in the process (so per web
process: the limits then hold per process, not across them). Redis trouble is logged once per
outage and never fails a request: the limiter fails open to its local count, and after a
failure it leaves Redis alone for ``REDIS_RETRY_SECONDS`` so requests do not each wait for a
timeout.

Every throttled response carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (epoch
seconds at which the hourly window ends), added by ``RateLimitHeadersMiddleware``. A 429 says
``Retry-After``: the wait until the window that refused the request ends, rounded up to a
whole second (1 for the burst limit, so the official SDK's automatic retry succeeds).
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from hotapi.redis_client import CREDENTIALS_EPOCH_KEY, HotPathScript, redis_client

log = logging.getLogger(__name__)

HOUR = 3600
REDIS_RETRY_SECONDS = 5.0

# KEYS: the second's counter, the hour's counter, the credentials epoch.
# ARGV: burst limit (0: none), hour TTL, 1 to count the request (0: only read the epoch).
# Returns {count in the hour, 1 if the burst limit refused the request, the epoch}: one round
# trip serves the throttle and confirms a cached credential (``environments.credential_cache``).
_COUNT_SCRIPT = """
local epoch = redis.call('GET', KEYS[3]) or '0'
if ARGV[3] == '0' then return {0, 0, epoch} end
local burst = tonumber(ARGV[1])
if burst > 0 then
  local second = redis.call('INCR', KEYS[1])
  if second == 1 then redis.call('EXPIRE', KEYS[1], 2) end
  if second > burst then
    return {tonumber(redis.call('GET', KEYS[2]) or '0'), 1, epoch}
  end
end
local hour = redis.call('INCR', KEYS[2])
if hour == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return {hour, 0, epoch}
"""


@dataclass
class Counted:
    hour_count: int
    burst_refused: bool
    epoch: bytes | None = None  # the credentials epoch read with the count (Redis only)


class LocalCounters:
    """Fixed-window counters in this process: the fallback when Redis is absent or down."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_prune = 0.0

    def count(self, second_key: str, hour_key: str, burst: int, now: float) -> Counted:
        with self._lock:
            if now >= self._next_prune:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_prune = now + 60
            if burst > 0:
                second = self._incr(second_key, now + 2)
                if second > burst:
                    return Counted(self._counts.get(hour_key, (0, 0))[0], True)
            return Counted(self._incr(hour_key, now + HOUR + 5), False)

    def peek(self, key: str, now: float) -> int:
        with self._lock:
            value, expiry = self._counts.get(key, (0, now))
            return value if expiry > now else 0

    def _incr(self, key: str, expires: float) -> int:
        value, expiry = self._counts.get(key, (0, expires))
        self._counts[key] = (value + 1, expiry)
        return value + 1


clock = time.time  # the wall clock the windows follow
_local = LocalCounters()
_redis_state = {"retry_at": 0.0, "failing": False}
_script = HotPathScript(_COUNT_SCRIPT)


def _count_in_redis(second_key: str, hour_key: str, burst: int, count: bool) -> Counted:
    hour, refused, epoch = _script(
        keys=[second_key, hour_key, CREDENTIALS_EPOCH_KEY], args=[burst, HOUR + 5, int(count)]
    )
    return Counted(int(hour), bool(refused), epoch)


def _hour_key(subject, now: float) -> str:
    return f"hot:rate:{subject}:{int(now // HOUR)}"


def count_request(subject, burst: int, now: float, *, count: bool = True) -> Counted:
    """Count one request of ``subject`` (an environment id, or ``anon:<address>`` for requests
    without valid credentials) in its second and hour windows, and read the credentials epoch
    in the same round trip (with Redis). ``count=False`` only reads the epoch."""
    second_key = f"hot:rate:{subject}:s:{int(now)}"
    hour_key = _hour_key(subject, now)
    if settings.REDIS_URL and time.monotonic() >= _redis_state["retry_at"]:
        try:
            counted = _count_in_redis(second_key, hour_key, burst, count)
        except Exception as exc:
            _redis_state["retry_at"] = time.monotonic() + REDIS_RETRY_SECONDS
            if not _redis_state["failing"]:
                _redis_state["failing"] = True
                log.warning("Rate limiter: Redis unavailable (%s); counting per process", exc)
        else:
            if _redis_state["failing"]:
                _redis_state["failing"] = False
                log.warning("Rate limiter: Redis is back")
            return counted
    if not count:
        return Counted(0, False)
    return _local.count(second_key, hour_key, burst, now)


def requests_this_hour(environment_id) -> int:
    """Requests counted in the current hour (without Redis: this web process's count)."""
    now = clock()
    key = _hour_key(environment_id, now)
    if settings.REDIS_URL and not _redis_state["failing"]:
        try:
            return int(redis_client().get(key) or 0)
        except Exception:
            log.warning("Could not read the request count from Redis", exc_info=True)
    return _local.peek(key, now)


def count_for_credential(request, environment) -> Counted:
    """Count the request against ``environment`` and read the credentials epoch, in one round
    trip; the throttle then uses this count instead of counting again."""
    counts = environment.requests_per_hour > 0 or environment.requests_per_second > 0
    burst = environment.requests_per_second
    counted = count_request(environment.pk, burst, clock(), count=counts)
    if counts:
        request.hot_counted = (environment.pk, counted)
    return counted


def precounted(request, environment_id) -> Counted | None:
    made = getattr(request, "hot_counted", None)
    if made is not None and made[0] == environment_id:
        return made[1]
    return None


class EnvironmentRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        credential = request.auth
        if credential is None:
            return True
        environment = credential.environment
        hourly, burst = environment.requests_per_hour, environment.requests_per_second
        if hourly <= 0 and burst <= 0:
            return True
        now = clock()
        counted = precounted(request._request, environment.pk)
        if counted is None:
            counted = count_request(environment.pk, burst, now)
        reset = (int(now // HOUR) + 1) * HOUR
        if hourly > 0:
            # Read by RateLimitHeadersMiddleware from the Django request.
            request._request.rate_limit = {
                "limit": hourly,
                "remaining": max(0, hourly - counted.hour_count),
                "reset": reset,
            }
        if counted.burst_refused:
            self._wait = math.ceil(now) - now or 1.0
            return False
        if hourly > 0 and counted.hour_count > hourly:
            self._wait = reset - now
            return False
        return True

    def wait(self) -> float:
        return self._wait


class RateLimitHeadersMiddleware:
    """Adds the ``X-RateLimit-*`` headers the throttle computed to the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        limits = getattr(request, "rate_limit", None)
        if limits is not None:
            response["X-RateLimit-Limit"] = str(limits["limit"])
            response["X-RateLimit-Remaining"] = str(limits["remaining"])
            response["X-RateLimit-Reset"] = str(limits["reset"])
        return response
