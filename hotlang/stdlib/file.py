"""Stored files: `::hot::file` (the FileMeta type is in hot/file.hot).

The host keeps the files (`Hooks.file_store()`: the environment's file storage on the
platform, the same files the API lists, uploads and downloads; a directory on the command
line). Paths follow the rules of `hostio/files.py`. Every call waits interruptibly, so the
run's time limit and cancellation hold while a large file moves. A failure (no such file, an
invalid path, the storage quota) is a `Result.Err` with the message, as in Hot; deleting a
file that does not exist is `false`.
"""

from __future__ import annotations

from ..calls import construct
from ..errors import HotError
from ..hostcall import blocking, host_service
from ..values import Err, type_name
from .registry import LIB, lib

F = "::hot::file"


def _store():
    return host_service("file_store", F)


def _meta(info):
    """A FileMeta from the host's description of a file."""
    return construct(
        LIB[F]["FileMeta"],
        [
            {
                "file-id": str(info["file_id"]),
                "path": info["path"],
                "size": int(info["size"]),
                "etag": info.get("etag"),
                "content-type": info.get("content_type"),
                "storage-backend": info["storage_backend"],
                "created-at": int(info["created_at"]),
                "updated-at": int(info["updated_at"]),
            }
        ],
    )


def _call(fn, op, *args):
    """``op`` on the host store, waiting interruptibly; a host failure is an Err."""
    store = _store()
    try:
        return blocking(getattr(store, op), *args)
    except HotError:
        raise  # the run's own limits and cancellation
    except Exception as e:
        return Err(f"{F}/{fn}: {e}")


def _str(fn, value, what="path"):
    if value.__class__ is not str:
        return Err(f"{F}/{fn}: the {what} must be a Str, got {type_name(value)}")
    return None


@lib(F, "read-file", core=True)
def read_file(path):
    data = _str("read-file", path) or _call("read-file", "read", path)
    if data.__class__ is Err:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Err(f"{F}/read-file: {path} is not valid UTF-8 text (use read-file-bytes)")


@lib(F, "read-file-bytes", core=True)
def read_file_bytes(path):
    return _str("read-file-bytes", path) or _call("read-file-bytes", "read", path)


def _write(fn, path, data):
    info = _str(fn, path) or _call(fn, "write", path, data)
    return info if info.__class__ is Err else _meta(info)


@lib(F, "write-file", core=True)
def write_file(path, contents):
    bad = _str("write-file", contents, "contents")
    return bad or _write("write-file", path, contents.encode("utf-8"))


@lib(F, "write-file-bytes", core=True)
def write_file_bytes(path, contents):
    if contents.__class__ is not bytes:
        return Err(f"{F}/write-file-bytes: the contents must be Bytes, got {type_name(contents)}")
    return _write("write-file-bytes", path, contents)


@lib(F, "delete-file", core=True)
def delete_file(path):
    return _str("delete-file", path) or _call("delete-file", "delete", path)


@lib(F, "file-exists", core=True)
def file_exists(path):
    return _str("file-exists", path) or _call("file-exists", "exists", path)


@lib(F, "file-info", core=True)
def file_info(path):
    info = _str("file-info", path) or _call("file-info", "info", path)
    if info is None:
        return Err(f"{F}/file-info: file not found: {path}")
    return info if info.__class__ is Err else _meta(info)


@lib(F, "list-files", core=True)
def list_files(prefix):
    found = _str("list-files", prefix, "prefix") or _call("list-files", "list", prefix)
    return found if found.__class__ is Err else [_meta(info) for info in found]
