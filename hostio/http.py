"""Outbound HTTP for Hot code (httpx), under the egress policy.

Each hop of a request — the first and every redirect — resolves its host, checks every
address with the policy and connects to a checked address (TLS still verifies the original
host name, sent as SNI and Host). Redirects are followed by hand, up to a cap. A response is
read in chunks and refused past the size limit; the whole exchange, redirects included, has
one deadline.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from .egress import EgressDenied, EgressPolicy, ResolveError

REDIRECTS = (301, 302, 303, 307, 308)


class HttpError(Exception):
    """A transport failure (refused, unreachable, timed out, too large, not allowed)."""


@dataclass
class HttpLimits:
    timeout: float = 30.0  # seconds for the whole exchange
    max_response_bytes: int = 10_000_000
    max_redirects: int = 5


@dataclass
class HttpResult:
    status: int
    headers: dict
    body: bytes
    url: str  # the final URL, after redirects
    redirects: int
    seconds: float


def redact(url: str) -> str:
    """url without its user:password part (for logs)."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return "<invalid url>"
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed)


def _headers(response) -> dict:
    out = {}
    for key, value in response.headers.multi_items():
        key = key.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class HttpClient:
    def __init__(self, policy: EgressPolicy | None = None, limits: HttpLimits | None = None):
        self.policy = policy or EgressPolicy()
        self.limits = limits or HttpLimits()
        # trust_env=False: no proxy or netrc from the worker's environment
        self.client = httpx.Client(follow_redirects=False, trust_env=False)

    def close(self):
        self.client.close()

    def _send(self, method, url, headers, body, deadline):
        """One hop: the response (streamed, not yet read) from a policy-checked address."""
        try:
            target = httpx.URL(url)
        except Exception as e:
            raise HttpError(f"invalid URL {redact(url)!r}: {e}") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise HttpError(f"unsupported URL {redact(url)!r}: only http and https are allowed")
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            address = self.policy.resolve(target.host, port)[0]
        except (EgressDenied, ResolveError) as e:
            raise HttpError(str(e)) from None
        pinned = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
        request_headers = dict(headers)
        if not any(k.lower() == "host" for k in request_headers):
            default_port = (target.scheme == "https" and port == 443) or port == 80
            request_headers["Host"] = target.host if default_port else f"{target.host}:{port}"
        remaining = max(0.001, deadline - time.monotonic())
        request = self.client.build_request(
            method,
            target.copy_with(host=pinned, port=port),
            headers=request_headers,
            content=body,
            timeout=httpx.Timeout(remaining),
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        try:
            return self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise HttpError(f"request to {redact(url)} timed out") from None
        except httpx.HTTPError as e:
            raise HttpError(f"request to {redact(url)} failed: {e}") from None

    def open(self, method, url, headers=None, body=None, timeout=None):
        """Send the request, following redirects: (response not yet read, final url,
        redirects, deadline)."""
        limit = self.limits.timeout if timeout is None else min(timeout, self.limits.timeout)
        deadline = time.monotonic() + limit
        headers = dict(headers or {})
        redirects = 0
        origin = httpx.URL(url).host if url else None
        while True:
            response = self._send(method, url, headers, body, deadline)
            location = response.headers.get("location")
            if response.status_code not in REDIRECTS or not location:
                return response, url, redirects, deadline
            response.close()
            redirects += 1
            if redirects > self.limits.max_redirects:
                raise HttpError(f"too many redirects (more than {self.limits.max_redirects})")
            url = urljoin(url, location)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, body = ("HEAD" if method == "HEAD" else "GET"), None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            if httpx.URL(url).host != origin:  # credentials never follow to another host
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}

    def chunks(self, response, url, deadline):
        """The body in chunks, held to the size limit and the deadline; closes the response."""
        total = 0
        cap = self.limits.max_response_bytes
        try:
            declared = int(response.headers.get("content-length") or 0)
            if declared > cap:
                raise HttpError(f"response too large ({declared} bytes; the limit is {cap})")
            for chunk in response.iter_bytes():  # decoded: the cap holds for the real size
                total += len(chunk)
                if total > cap:
                    raise HttpError(f"response too large (over the limit of {cap} bytes)")
                if time.monotonic() > deadline:
                    raise HttpError(f"timed out reading the response from {redact(url)}")
                yield chunk
        except httpx.TimeoutException:
            raise HttpError(f"timed out reading the response from {redact(url)}") from None
        except httpx.HTTPError as e:
            raise HttpError(f"reading the response from {redact(url)} failed: {e}") from None
        finally:
            response.close()

    def request(self, method, url, headers=None, body=None, timeout=None) -> HttpResult:
        started = time.monotonic()
        response, final_url, redirects, deadline = self.open(method, url, headers, body, timeout)
        data = b"".join(self.chunks(response, final_url, deadline))
        return HttpResult(
            response.status_code,
            _headers(response),
            data,
            final_url,
            redirects,
            time.monotonic() - started,
        )

    def stream(self, method, url, headers=None, body=None, timeout=None):
        """(status, headers, final url, an iterator of body chunks)."""
        response, final_url, _, deadline = self.open(method, url, headers, body, timeout)
        return (
            response.status_code,
            _headers(response),
            final_url,
            self.chunks(response, final_url, deadline),
        )
