"""kombu's transports as the service uses them: the filesystem one with atomic writes, the
Redis one with one client per channel.

**Filesystem (the embedded broker).**

kombu's filesystem channel creates a file and then writes it, both for messages and for the
exchange tables in its control folder, so another process can read the file while it is still
empty and fail with a JSON decode error (the worker of ``runhot`` died this way while beat was
sending ticks). Here every file is written under a hidden temporary name in the same folder and
renamed into place, which is atomic; updates of an exchange table are serialized by a lock
file.

**Redis.** kombu's Redis channel builds a new ``redis.Redis`` client (sharing the channel's
connection pool) for every message it sends, and redis-py 8 fills a table of some 170 reply
callbacks for each: about 140 µs of the 470 µs of CPU that sending a task took
(bench/README.md). Here a channel keeps the client it built for as long as its connection pool
lives. ``redis.Redis`` takes a pool connection per command, so the kept client is as safe to
share as the pool; the clients kombu uses for blocking reads (its ``asynchronous`` ones) are
left as they were.
"""

import os
import uuid
from pathlib import Path
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem, redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = Path(self.data_folder_out) / name
        try:
            # The temporary name starts with a dot: no queue's listing ever matches it.
            _write_atomically(final, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        table_file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        guard_path = table_file.with_name(f"{table_file.name}.lock")
        try:
            with open(guard_path, "a") as guard:
                filesystem.lock(guard, filesystem.LOCK_EX)
                try:
                    bindings = self.get_table(exchange)
                    if binding in bindings:
                        return
                    bindings.insert(0, binding)
                    _write_atomically(table_file, str_to_bytes(dumps(bindings)))
                finally:
                    filesystem.unlock(guard)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {table_file}") from exc


def _write_atomically(path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class Transport(filesystem.Transport):
    Channel = Channel


class RedisChannel(redis.Channel):
    _sending_client = None
    _sending_client_pool = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        if self._sending_client is None or self._sending_client_pool is not pool:
            self._sending_client = super()._create_client()
            self._sending_client_pool = pool
        return self._sending_client


class RedisTransport(redis.Transport):
    Channel = RedisChannel


def install() -> None:
    """Make ``filesystem://`` and ``redis://`` (``rediss://``) broker URLs use these
    transports."""
    TRANSPORT_ALIASES["filesystem"] = "hotapi.broker:Transport"
    TRANSPORT_ALIASES["redis"] = "hotapi.broker:RedisTransport"
    TRANSPORT_ALIASES["rediss"] = "hotapi.broker:RedisTransport"
