"""MIME types: `::hot::mime`."""

from __future__ import annotations

import mimetypes
import posixpath

from ..values import hot_str
from .registry import lib

MI = "::hot::mime"


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
