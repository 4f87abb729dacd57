"""Raw TCP connections: `::hot::tcp` (the types are in hot/tcp.hot).

The host opens them (`Hooks.tcp_connect`, under the same egress policy as HTTP); the
connection objects stay with the run and are closed when it ends. Every wait is
interruptible and counted against the run's time. Failures are `Result.Err` values carrying
the message, as in Hot.
"""

from __future__ import annotations

import uuid

from ..calls import construct
from ..errors import HotError, HotRuntimeError
from ..hostcall import blocking, hooks_or_fail, log, remaining_seconds
from ..state import current
from ..values import Err, TypedVal, hot_str, type_name
from .registry import LIB, lib

T = "::hot::tcp"
DEFAULT_TIMEOUT_MS = 30_000


def _timeout(options, fn):
    fields = options.value if options.__class__ is TypedVal else (options or {})
    ms = fields.get("timeout")
    if ms is None:
        ms = DEFAULT_TIMEOUT_MS
    if ms.__class__ is not int or ms < 0:
        raise HotRuntimeError(f"{T}/{fn}: timeout must be a non-negative Int of milliseconds")
    # 0 means no timeout of its own: the run's time limit still applies
    return remaining_seconds(ms / 1000 if ms else 24 * 3600.0)


def _handles():
    return current().ex.handles.setdefault("tcp", {})


def _conn(value, fn):
    fields = value.value if value.__class__ is TypedVal else value
    conn = _handles().get(fields.get("id")) if fields.__class__ is dict else None
    if conn is None:
        raise HotRuntimeError(f"{T}/{fn}: not a connection of this run ({type_name(value)})")
    return conn


def _io(fn, call, *args):
    try:
        return blocking(call, *args)
    except HotError:
        raise
    except Exception as e:
        return Err(f"{T}/{fn}: {e}")


@lib(T, "connect")
def connect(host, port, options=None):
    if host.__class__ is not str or port.__class__ is not int:
        return Err(f"{T}/connect: expected a Str host and an Int port")
    if not 0 < port < 65536:
        return Err(f"{T}/connect: invalid port {port}")
    hooks = hooks_or_fail(T)
    fields = options.value if options.__class__ is TypedVal else (options or {})
    nodelay = fields.get("nodelay") is not False
    conn = _io("connect", hooks.tcp_connect, host, port, _timeout(options, "connect"), nodelay)
    if conn.__class__ is Err:
        log("warn", f"tcp connect {host}:{port} failed: {conn.value}")
        return conn
    conn_id = str(uuid.uuid4())
    _handles()[conn_id] = conn
    log("info", f"tcp connect {host}:{port}")
    value = {"id": conn_id, "host": host, "port": port, "tls": False}
    return construct(LIB[T]["TcpConnection"], [value])


@lib(T, "read")
def read(conn, max_bytes, options=None):
    c = _conn(conn, "read")
    return _io("read", c.read, max_bytes, _timeout(options, "read"))


@lib(T, "read-exact")
def read_exact(conn, n, options=None):
    c = _conn(conn, "read-exact")
    return _io("read-exact", c.read_exact, n, _timeout(options, "read-exact"))


@lib(T, "write")
def write(conn, data):
    c = _conn(conn, "write")
    payload = data if data.__class__ is bytes else hot_str(data).encode()
    return _io("write", c.write, payload, remaining_seconds(DEFAULT_TIMEOUT_MS / 1000))


@lib(T, "close")
def close(conn):
    fields = conn.value if conn.__class__ is TypedVal else conn
    c = _handles().pop(fields.get("id"), None) if fields.__class__ is dict else None
    if c is not None:
        c.close()
    return True


@lib(T, "is-open")
def is_open(conn):
    fields = conn.value if conn.__class__ is TypedVal else conn
    c = _handles().get(fields.get("id")) if fields.__class__ is dict else None
    return bool(c is not None and c.open)


def close_all(ex):
    """Close every connection the run left open (called when the execution ends)."""
    for c in ex.handles.pop("tcp", {}).values():
        try:
            c.close()
        except Exception:  # noqa: S110 - already closed or broken: nothing left to release
            pass
