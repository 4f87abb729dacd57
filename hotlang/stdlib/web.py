"""URI helpers (`::hot::uri`) and MIME types (`::hot::mime`) on the Python stdlib."""

from __future__ import annotations

import mimetypes
import posixpath
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urljoin, urlsplit

from ..values import hot_str
from . import lib

U = "::hot::uri"
MI = "::hot::mime"


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


# -- mime --------------------------------------------------------------------------------------
_EXTRA = {
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "json": "application/json",
    "md": "text/markdown",
    "wav": "audio/wav",
}
_PREFERRED_EXT = {
    "image/jpeg": "jpg",
    "audio/mpeg": "mp3",
    "text/plain": "txt",
    "video/mp4": "mp4",
    "image/png": "png",
}


@lib(MI, "from-ext")
def from_ext(ext):
    ext = hot_str(ext).lower().lstrip(".")
    return _EXTRA.get(ext) or mimetypes.types_map.get("." + ext)


@lib(MI, "from-path")
def from_path(path):
    ext = posixpath.splitext(hot_str(path))[1]
    return from_ext(ext) if ext else None


@lib(MI, "to-exts")
def to_exts(mime):
    mime = hot_str(mime).lower()
    exts = [e.lstrip(".") for e in mimetypes.guess_all_extensions(mime, strict=False)]
    exts += [e for e, m in _EXTRA.items() if m == mime and e not in exts]
    return exts


@lib(MI, "to-ext")
def to_ext(mime):
    mime = hot_str(mime).lower()
    if mime in _PREFERRED_EXT:
        return _PREFERRED_EXT[mime]
    exts = to_exts(mime)
    return exts[0] if exts else None


@lib(MI, "major-type")
def major_type(mime):
    return hot_str(mime).split("/", 1)[0].lower()


@lib(MI, "minor-type")
def minor_type(mime):
    parts = hot_str(mime).split(";", 1)[0].split("/", 1)
    return parts[1].strip().lower() if len(parts) > 1 else None


def _is(kind):
    def fn(mime):
        return major_type(mime) == kind

    lib(MI, f"is-{kind}")(fn)


for _kind in ("image", "audio", "video", "text"):
    _is(_kind)


@lib(MI, "is-media")
def is_media(mime):
    return major_type(mime) in ("image", "audio", "video")


@lib(MI, "is-application")
def is_application(mime):
    return major_type(mime) == "application"
