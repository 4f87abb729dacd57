"""Stored files as Hot code and the API name them: the path rules, the content type of a path,
and a directory-backed store for hotlang's command line.

A file path is relative to the environment's file storage: ``hot://`` and leading slashes are
dropped, ``.`` segments and empty segments (``a//b``) are removed, and what remains must be 1 to
1,024 characters of any Unicode text except control characters and ``\\ * ? " < > | # % { }
^ ` [ ]``. A ``..`` segment is refused, never resolved: a path cannot point outside the
storage or at another file by another name. Paths are compared exactly (case-sensitively); the
platform keeps them in its database and stores the bytes under keys of its own, so a path never
reaches a file system or a bucket. ``PATH_PATTERN`` is the same rule as a regular expression
(for the API schema).

The platform's implementation of the store is ``files.services`` (through ``runs/host.py``);
``DirectoryFileStore`` here is the command line's, with the same operations and results.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import posixpath
import tempfile
import threading
import time
import unicodedata
import uuid

MAX_PATH_CHARS = 1024
FORBIDDEN = '\\*?"<>|#%{}^`[]'
SCHEME = "hot://"
# The same rule as a regular expression, for the API schema: allowed characters, at least one
# that is not '/' or '.', and no '..' segment.
_EXCLUDED = r'\x00-\x1f\x7f-\x9f\\*?"<>|#%{}^`\[\]'  # as a character class's content
_CHAR = f"[^{_EXCLUDED}]"
_NAMED = f"[^{_EXCLUDED}/.]"
PATH_PATTERN = rf"^(?!(?:.*/)?\.\.(?:/|$)){_CHAR}*{_NAMED}{_CHAR}*$"

# Content types Python's table lacks or names differently on some systems (it reads the
# machine's mime.types): the same answer everywhere for the common ones.
CONTENT_TYPES = {
    "hot": "text/x-hot",
    "md": "text/markdown",
    "json": "application/json",
    "txt": "text/plain",
    "csv": "text/csv",
    "html": "text/html",
    "htm": "text/html",
    "xml": "application/xml",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "js": "text/javascript",
    "css": "text/css",
    "yaml": "application/yaml",
    "yml": "application/yaml",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class FilePathError(ValueError):
    """A path breaks the rules above; the message says which."""


def _forbidden(char: str) -> bool:
    return char in FORBIDDEN or unicodedata.category(char) in ("Cc", "Cs")


def _segments(raw) -> list[str]:
    if not isinstance(raw, str):
        raise FilePathError(f"a file path must be a string, got {type(raw).__name__}")
    if len(raw) > MAX_PATH_CHARS + len(SCHEME):
        raise FilePathError(f"a file path is at most {MAX_PATH_CHARS} characters")
    bad = next((char for char in raw if _forbidden(char)), None)
    if bad is not None:
        raise FilePathError(
            f"character {bad!r} is not allowed in a file path (control characters and "
            f"{' '.join(FORBIDDEN)} are not)"
        )
    text = raw[len(SCHEME) :] if raw.startswith(SCHEME) else raw
    segments = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in segments:
        raise FilePathError(f"'..' is not allowed in a file path: {raw!r}")
    return segments


def normalize_path(raw) -> str:
    """The canonical form of a file path, or ``FilePathError``."""
    path = "/".join(_segments(raw))
    if not path:
        raise FilePathError("a file path must name a file (it is empty)")
    if len(path) > MAX_PATH_CHARS:
        raise FilePathError(f"a file path is at most {MAX_PATH_CHARS} characters")
    return path


def normalize_prefix(raw) -> str:
    """A listing prefix: the same rules, but it may be empty and keeps a trailing slash (so
    ``reports/`` lists the folder and ``reports`` also matches ``reports-2024.csv``)."""
    if raw is None or raw == "":
        return ""
    path = "/".join(_segments(raw))
    if path and isinstance(raw, str) and raw.endswith("/"):
        path += "/"
    return path


def content_type_for(path: str) -> str:
    """The content type of a path, by its extension."""
    ext = posixpath.splitext(path)[1].lower().lstrip(".")
    if not ext:
        return DEFAULT_CONTENT_TYPE
    return CONTENT_TYPES.get(ext) or mimetypes.types_map.get("." + ext) or DEFAULT_CONTENT_TYPE


def file_id_for(path: str) -> str:
    """A stable id for the command line's files (the platform's are database ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, SCHEME + path))


class DirectoryFileStore:
    """Files under a directory, for Hot code run by hotlang's command line: the bytes in
    ``<root>/data/<path>``, each file's id and creation time in ``<root>/meta/<path>.json``.
    Without a root, a temporary directory removed when the process ends."""

    storage_backend = "local"

    def __init__(self, root: str | None = None):
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hotlang-files-")
            root = self._tmp.name
        self.root = os.path.abspath(root)
        self.lock = threading.Lock()

    def _data(self, path: str) -> str:
        return os.path.join(self.root, "data", *path.split("/"))

    def _meta(self, path: str) -> str:
        return os.path.join(self.root, "meta", *path.split("/")) + ".json"

    def _info(self, path: str) -> dict | None:
        data = self._data(path)
        if not os.path.isfile(data):
            return None
        with open(data, "rb") as handle:
            etag = hashlib.md5(handle.read(), usedforsecurity=False).hexdigest()
        try:
            with open(self._meta(path), encoding="utf-8") as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            meta = {}
        return {
            "file_id": meta.get("file_id") or file_id_for(path),
            "path": path,
            "size": os.path.getsize(data),
            "etag": etag,
            "content_type": meta.get("content_type") or content_type_for(path),
            "storage_backend": self.storage_backend,
            "created_at": meta.get("created_at") or int(os.path.getmtime(data)),
            "updated_at": int(os.path.getmtime(data)),
        }

    def write(self, path: str, data: bytes, content_type: str | None = None) -> dict:
        path = normalize_path(path)
        with self.lock:
            target = self._data(path)
            if os.path.isdir(target):
                raise FilePathError(f"{path} is a folder of other files")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            previous = self._info(path)
            fd, staging = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".writing-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(staging, target)  # readers see the old or the new file, never a part
            meta = {
                "file_id": previous["file_id"] if previous else file_id_for(path),
                "created_at": previous["created_at"] if previous else int(time.time()),
                "content_type": content_type or content_type_for(path),
            }
            os.makedirs(os.path.dirname(self._meta(path)), exist_ok=True)
            with open(self._meta(path), "w", encoding="utf-8") as handle:
                json.dump(meta, handle)
            return self._info(path)

    def read(self, path: str) -> bytes:
        path = normalize_path(path)
        try:
            with open(self._data(path), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(f"file not found: {path}") from None

    def info(self, path: str) -> dict | None:
        return self._info(normalize_path(path))

    def exists(self, path: str) -> bool:
        return self.info(path) is not None

    def delete(self, path: str) -> bool:
        path = normalize_path(path)
        with self.lock:
            if not os.path.isfile(self._data(path)):
                return False
            os.remove(self._data(path))
            if os.path.exists(self._meta(path)):
                os.remove(self._meta(path))
            return True

    def list(self, prefix: str = "") -> list[dict]:
        prefix = normalize_prefix(prefix)
        base = os.path.join(self.root, "data")
        found = []
        for folder, _, names in os.walk(base):
            for name in names:
                rel = os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/")
                if rel.startswith(prefix) and not name.startswith(".writing-"):
                    found.append(rel)
        return [info for rel in sorted(found) if (info := self._info(rel)) is not None]
