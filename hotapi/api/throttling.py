"""Per-environment request limits: an hourly quota and a per-second burst limit.

Both are atomic fixed windows. With ``REDIS_URL`` the counts are shared by every process, and
handed out in blocks: one Lua call reserves consecutive counts in the second's and the hour's
windows at once (a request refused by the burst limit is not charged to the hourly quota), and
the process serves the next requests of that subject from its block without a round trip. A
block is a sixteenth of what is left below the limit (1 to 64 counts; 64 without a limit): far
from the limit most requests cost no Redis call, near it every request is counted in Redis
one at a time. Every count is given to one request only, so no more requests than the limit
are ever allowed; counts left in another process's block can make a window refuse early, by
at most that process's last block.

Without Redis, or while Redis cannot be reached, the counts are kept in the process (so per
web process: the limits then hold per process, not across them). Redis trouble is logged once
per outage and never fails a request: the limiter fails open to its local count, and after a
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

from hotapi.redis_client import HotPathScript, redis_client

log = logging.getLogger(__name__)

HOUR = 3600
REDIS_RETRY_SECONDS = 5.0
BLOCK_SHARE = 16  # a block is this fraction of what is left below the limit
MAX_BLOCK = 64
MAX_LEASES = 10_000

# KEYS: the second's counter, the hour's counter. ARGV: burst limit and hourly limit (0: none),
# 1 to reserve in the second's window, 1 to reserve in the hour's, the hour counter's TTL.
# Returns {the second's last count and block size, the hour's last count and block size}
# (0, 0 for a window not asked). When the second's block starts past the burst limit the
# request is refused and the hour is not charged: its current count comes back, block 0.
_RESERVE_SCRIPT = f"""
local function reserve(key, limit, ttl)
  local block = {MAX_BLOCK}
  if limit > 0 then
    local left = limit - tonumber(redis.call('GET', key) or '0')
    block = math.max(1, math.min({MAX_BLOCK}, math.floor(left / {BLOCK_SHARE})))
  end
  local last = redis.call('INCRBY', key, block)
  if last == block then redis.call('EXPIRE', key, ttl) end
  return {{last, block}}
end
local burst, hourly = tonumber(ARGV[1]), tonumber(ARGV[2])
local second = {{0, 0}}
if ARGV[3] == '1' then
  second = reserve(KEYS[1], burst, 2)
  if burst > 0 and second[1] - second[2] >= burst then
    return {{second[1], second[2], tonumber(redis.call('GET', KEYS[2]) or '0'), 0}}
  end
end
local hour = {{0, 0}}
if ARGV[4] == '1' then hour = reserve(KEYS[2], hourly, tonumber(ARGV[5])) end
return {{second[1], second[2], hour[1], hour[2]}}
"""


@dataclass
class Counted:
    hour_count: int
    burst_refused: bool


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


@dataclass
class Block:
    """Counts of one window reserved in Redis for this process: ``next`` to ``last``."""

    window: int = -1
    next: int = 1
    last: int = 0

    def has(self, window: int) -> bool:
        return window == self.window and self.next <= self.last

    def take(self) -> int:
        self.next += 1
        return self.next - 1


class Lease:
    """The blocks one subject holds in this process. Its lock makes the threads of a threaded
    server that need a new block wait for one reservation instead of each making its own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.second = Block()
        self.hour = Block()

    def count(self, burst: int, second: int, hour: int, reserve) -> Counted:
        """One request's count, from the blocks held or from new ones: ``reserve(second?,
        hour?)`` returns the script's reply for the windows asked."""
        with self.lock:
            second_needed = burst > 0 and not self.second.has(second)
            hour_needed = not self.hour.has(hour)
            if second_needed or hour_needed:
                second_last, second_block, hour_last, hour_block = (
                    int(value) for value in reserve(second_needed, hour_needed)
                )
                if second_needed:
                    first = second_last - second_block + 1
                    self.second = Block(second, first, second_last)
                    if first > burst:  # refused; the hour was not charged
                        self.second.next = second_last + 1  # the next request asks again
                        # As allowed requests report it: the last count this process gave.
                        held = self.hour.next - 1 if self.hour.window == hour else hour_last
                        return Counted(held, True)
                if hour_needed:
                    self.hour = Block(hour, hour_last - hour_block + 1, hour_last)
            if burst > 0:
                self.second.take()
            return Counted(self.hour.take(), False)


class Leases:
    """This process's blocks of counts, per subject."""

    def __init__(self):
        self._lock = threading.Lock()
        self._leases: dict[object, Lease] = {}  # by environment id or ``anon:<address>``

    def of(self, subject) -> Lease:
        lease = self._leases.get(subject)
        if lease is None:
            with self._lock:
                if len(self._leases) >= MAX_LEASES:
                    self._leases = {}
                lease = self._leases.setdefault(subject, Lease())
        return lease


clock = time.time  # the wall clock the windows follow
_local = LocalCounters()
_leases = Leases()
_redis_state = {"retry_at": 0.0, "failing": False}
_script = HotPathScript(_RESERVE_SCRIPT)


def _hour_key(subject, now: float) -> str:
    return f"hot:rate:{subject}:{int(now // HOUR)}"


def _second_key(subject, second: int) -> str:
    return f"hot:rate:{subject}:s:{second}"


def count_request(subject, *, burst: int, hourly: int, now: float) -> Counted:
    """Count one request of ``subject`` (an environment id, or ``anon:<address>`` for requests
    without valid credentials) in its second window (with a burst limit) and its hour window,
    from this process's blocks when it holds counts of both."""
    second, hour = int(now), int(now // HOUR)
    if settings.REDIS_URL and time.monotonic() >= _redis_state["retry_at"]:

        def reserve(second_needed: bool, hour_needed: bool):
            # The keys are built only here: a request counted from a block needs none.
            return _script(
                keys=[_second_key(subject, second), _hour_key(subject, now)],
                args=[burst, hourly, int(second_needed), int(hour_needed), HOUR + 5],
            )

        try:
            counted = _leases.of(subject).count(burst, second, hour, reserve)
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
    return _local.count(_second_key(subject, second), _hour_key(subject, now), burst, now)


def requests_this_hour(environment_id) -> int:
    """Requests counted in the current hour (without Redis: this web process's count). With
    Redis it includes counts reserved in blocks and not yet used."""
    now = clock()
    key = _hour_key(environment_id, now)
    if settings.REDIS_URL and not _redis_state["failing"]:
        try:
            return int(redis_client().get(key) or 0)
        except Exception:
            log.warning("Could not read the request count from Redis", exc_info=True)
    return _local.peek(key, now)


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
        counted = count_request(environment.pk, burst=burst, hourly=hourly, now=now)
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
