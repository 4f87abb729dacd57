"""URIs: `::hot::uri`."""

from __future__ import annotations

from urllib.parse import quote, quote_plus, unquote, unquote_plus, urljoin, urlsplit

from ..values import Builtin, TypedVal, TypeInfo, hot_str
from .registry import LIB, lib

U = "::hot::uri"


@lib(U, "encode")
def encode(s):
    return quote(hot_str(s), safe="-_.~")


@lib(U, "decode")
def decode(s):
    return unquote(hot_str(s))


def _pairs(params):
    for k, v in (params or {}).items():
        if v is None:
            continue
        yield f"{quote_plus(hot_str(k))}={quote_plus(hot_str(v))}"


@lib(U, "encode-query")
def encode_query(params):
    return "&".join(_pairs(params))


@lib(U, "query-string")
def query_string(params):
    q = encode_query(params)
    return "?" + q if q else ""


@lib(U, "decode-query")
def decode_query(s):
    s = hot_str(s)
    if s.startswith("?"):
        s = s[1:]
    out = {}
    for part in s.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        out[unquote_plus(k)] = unquote_plus(v)
    return out


@lib(U, "parse")
def parse(s):
    p = urlsplit(hot_str(s))
    userinfo = None
    if p.netloc and "@" in p.netloc:
        userinfo = p.netloc.rsplit("@", 1)[0]
    return {
        "scheme": p.scheme or None,
        "userinfo": userinfo,
        "host": p.hostname,
        "port": p.port,
        "path": p.path,
        "query": p.query or None,
        "fragment": p.fragment or None,
    }


@lib(U, "is-valid")
def is_valid(s):
    try:
        p = urlsplit(hot_str(s))
    except ValueError:
        return False
    return bool(p.scheme) and (bool(p.netloc) or bool(p.path))


@lib(U, "build")
def build(parts):
    scheme = parts.get("scheme") or "https"
    host = parts.get("host") or ""
    port = parts.get("port")
    path = parts.get("path") or ""
    out = f"{scheme}://{host}" + (f":{port}" if port is not None else "") + path
    query = parts.get("query")
    if isinstance(query, dict):
        q = encode_query(query)
        if q:
            out += "?" + q
    elif query:
        out += "?" + hot_str(query)
    if parts.get("fragment"):
        out += "#" + hot_str(parts["fragment"])
    return out


@lib(U, "join")
def join(base, *segments):
    base = hot_str(base)
    if len(segments) == 1 and hot_str(segments[0]).startswith("."):
        return urljoin(base if base.endswith("/") else base, hot_str(segments[0]))
    out = base.rstrip("/")
    for seg in segments:
        out += "/" + hot_str(seg).strip("/")
    return out


# -- the Uri type: a record of the parsed parts, rendered back by Str() ------------------------
def _uri_ctor(value):
    if value.__class__ is TypedVal and value.type is URI:
        return value
    if value.__class__ is dict:
        return TypedVal(URI, {field: value.get(field) for field, _ in URI.fields})
    return TypedVal(URI, parse(value))


@lib(U, "to-str")
def to_str(uri):
    parts = uri.value if uri.__class__ is TypedVal else uri
    out = f"{parts['scheme']}:" if parts.get("scheme") else ""
    if parts.get("host") is not None:
        userinfo = f"{parts['userinfo']}@" if parts.get("userinfo") else ""
        port = f":{parts['port']}" if parts.get("port") is not None else ""
        out += f"//{userinfo}{parts['host']}{port}"
    out += parts.get("path") or ""
    if parts.get("query") is not None:
        out += f"?{parts['query']}"
    if parts.get("fragment") is not None:
        out += f"#{parts['fragment']}"
    return out


URI = TypeInfo(
    "Uri",
    f"{U}/Uri",
    "type",
    [
        ("scheme", ["Str"]),
        ("userinfo", ["Str", "Null"]),
        ("host", ["Str", "Null"]),
        ("port", ["Int", "Null"]),
        ("path", ["Str"]),
        ("query", ["Str", "Null"]),
        ("fragment", ["Str", "Null"]),
    ],
)
URI.ctor = Builtin("Uri", _uri_ctor, "strict", f"{U}/Uri")
URI.coercions["Str"] = LIB[U]["to-str"]
LIB[U]["Uri"] = URI
