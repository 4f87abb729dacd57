"""Raw TCP connections for Hot code, under the same egress policy as HTTP: the host is
resolved once and the connection is made to a checked address."""

from __future__ import annotations

import socket

from .egress import EgressDenied, EgressPolicy, ResolveError


class TcpError(Exception):
    """A connection failure, a timeout, or a peer that closed too early."""


class TcpConnection:
    def __init__(self, sock, host, port):
        self.sock = sock
        self.host = host
        self.port = port
        self.open = True

    def read(self, max_bytes, timeout):
        """Up to max_bytes (at least one); None when the peer has closed."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(max_bytes)
        except TimeoutError:
            raise TcpError(f"read from {self.host}:{self.port} timed out") from None
        except OSError as e:
            self.close()
            raise TcpError(f"read from {self.host}:{self.port} failed: {e}") from None
        return data or None

    def read_exact(self, n, timeout):
        chunks, got = [], 0
        while got < n:
            data = self.read(n - got, timeout)
            if data is None:
                raise TcpError(f"{self.host}:{self.port} closed the connection after {got} bytes")
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    def write(self, data, timeout):
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.close()
            raise TcpError(f"write to {self.host}:{self.port} failed: {e}") from None
        return len(data)

    def close(self):
        if self.open:
            self.open = False
            self.sock.close()


def connect(policy: EgressPolicy, host: str, port: int, timeout: float, nodelay=True):
    if not 0 < port < 65536:
        raise TcpError(f"invalid port {port}")
    try:
        addresses = policy.resolve(host, port)
    except (EgressDenied, ResolveError) as e:
        raise TcpError(str(e)) from None
    last = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except OSError as e:
            last = e
            continue
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return TcpConnection(sock, host, port)
    raise TcpError(f"cannot connect to {host}:{port}: {last}")
