"""At most ``HOT_SSE_MAX_STREAMS_PER_KEY`` open SSE streams per API key.

A stream holds a slot from before its view does any work until its connection closes. With
``REDIS_URL`` the slots of a key are one sorted set shared by every web process (member: the
stream, score: when its lease ends); each process renews the leases of its open streams in a
background thread, so the slots of a killed process lapse after ``LEASE_SECONDS``. Without
Redis the count is per process.
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from hotapi.errors import LimitExceeded
from hotapi.redis_client import redis_client

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
# Drop lapsed slots, count the rest, take one if there is room: atomically, in Redis.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(eq=False)
class StreamSlot:
    owner: str
    member: str
    _slots: "StreamSlots"

    def release(self) -> None:
        self._slots.release(self)


class StreamSlots:
    def __init__(self):
        self._lock = threading.Lock()
        self._open: dict[str, set[str]] = {}  # owner -> members open in this process
        self._renewer: threading.Thread | None = None

    def acquire(self, owner: str, limit: int) -> StreamSlot | None:
        member = uuid.uuid4().hex
        if settings.REDIS_URL and not self._acquire_shared(owner, member, limit):
            return None
        with self._lock:
            members = self._open.setdefault(owner, set())
            if not settings.REDIS_URL and len(members) >= limit:
                return None
            members.add(member)
        if settings.REDIS_URL:
            self._start_renewer()
        return StreamSlot(owner, member, self)

    def release(self, slot: StreamSlot) -> None:
        with self._lock:
            members = self._open.get(slot.owner, set())
            if slot.member not in members:
                return  # released already
            members.discard(slot.member)
            if not members:
                self._open.pop(slot.owner, None)
        if settings.REDIS_URL:
            try:
                redis_client().zrem(_key(slot.owner), slot.member)
            except Exception:  # the lease lapses on its own
                log.warning("Could not release a stream slot; it lapses within a minute")

    def _acquire_shared(self, owner: str, member: str, limit: int) -> bool:
        now = time.time()
        try:
            args = [now, limit, now + LEASE_SECONDS, member, LEASE_SECONDS * 2]
            return bool(redis_client().eval(_ACQUIRE, 1, _key(owner), *args))
        except Exception:  # a Redis outage must not close the API: fall back to no limit
            log.warning("Could not count open streams; letting this one open")
            return True

    def _start_renewer(self) -> None:
        with self._lock:
            if self._renewer is not None:
                return
            self._renewer = threading.Thread(
                target=self._renew_forever, name="hot-stream-slots", daemon=True
            )
        self._renewer.start()

    def _renew_forever(self) -> None:
        while True:
            time.sleep(LEASE_SECONDS / 3)
            with self._lock:
                open_now = {owner: list(members) for owner, members in self._open.items()}
            try:
                pipeline = redis_client().pipeline(transaction=False)
                expires = time.time() + LEASE_SECONDS
                for owner, members in open_now.items():
                    pipeline.zadd(_key(owner), dict.fromkeys(members, expires), xx=True)
                    pipeline.expire(_key(owner), LEASE_SECONDS * 2)
                pipeline.execute()
            except Exception:
                log.warning("Could not renew the leases of open streams", exc_info=True)


def _key(owner: str) -> str:
    return f"hot:sse-slots:{owner}"


_slots = StreamSlots()


def stream_slot_acquire(*, credential) -> StreamSlot:
    """A slot for one more open stream of ``credential`` (the request's API key, session or
    service key: each has its own budget), or 429."""
    limit = settings.HOT_SSE_MAX_STREAMS_PER_KEY
    owner = f"{credential.kind}:{credential.id}"
    slot = _slots.acquire(owner, limit) if limit > 0 else StreamSlot(owner, "", _slots)
    if slot is None:
        raise LimitExceeded(
            f"This API key already has {limit} open streams; close one before opening another",
            code="too_many_streams",
        )
    return slot
