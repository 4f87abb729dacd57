"""Streaming of build uploads: the body goes to a temporary file, never whole into memory.

Each temporary file is named after the process that owns it (``hot-upload.<pid>.<host>.…``),
so a server starting up can remove the files of a process that was killed while it held them
(they used to stay forever); files older than ``HOT_UPLOAD_TMP_MAX_AGE_SECONDS`` go whoever
owned them.
"""

import hashlib
import logging
import os
import re
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

from hotapi.errors import TooLarge

log = logging.getLogger(__name__)

# Multipart framing around the file (boundaries, headers, the small text fields).
MULTIPART_OVERHEAD_BYTES = 64 * 1024
_OWNED_FILE = re.compile(r"^hot-upload\.(?P<pid>[0-9]+)\.(?P<host>[0-9a-f]{8})\.")
_LEGACY_FILE = re.compile(r"^tmp.*\.upload")  # Django's own naming, before owners were recorded


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


class OwnedTemporaryUploadedFile(TemporaryUploadedFile):
    """Django's temporary upload file, named after its owning process."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        _, ext = os.path.splitext(name)
        file = tempfile.NamedTemporaryFile(  # closed with the upload
            prefix=f"hot-upload.{os.getpid()}.{_host_tag()}.",
            suffix=".upload" + ext,
            dir=settings.FILE_UPLOAD_TEMP_DIR,
        )
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


def _owner_is_gone(pid: int, host: str) -> bool:
    if host != _host_tag():
        return False  # another host's process: only its age can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _orphaned(path: Path, oldest: float) -> bool:
    owned = _OWNED_FILE.match(path.name)
    if owned is None and not _LEGACY_FILE.match(path.name):
        return False
    if path.stat().st_mtime < oldest:
        return True
    return owned is not None and _owner_is_gone(int(owned["pid"]), owned["host"])


def remove_orphaned_upload_files() -> int:
    """Remove temporary upload files whose process is gone, or that are too old to be in use.
    Returns how many were removed."""
    oldest = time.time() - settings.HOT_UPLOAD_TMP_MAX_AGE_SECONDS
    removed = 0
    for path in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir():
        try:
            if path.is_file() and _orphaned(path, oldest):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its owner finished meanwhile
    if removed:
        log.info("Removed %d temporary upload files left by stopped processes", removed)
    return removed


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"Build exceeds the maximum size of {limit} bytes")


class BoundedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Writes every uploaded file to a temporary file and stops once ``limit`` is passed,
    also when the client sends no (or a false) Content-Length."""

    chunk_size = 1024 * 1024  # fewer, larger writes: uploads are large by nature

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.sha256 = hashlib.sha256()  # hashed while receiving, so it needs no extra pass

    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = OwnedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + MULTIPART_OVERHEAD_BYTES:
            raise too_large(self.limit)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # deletes the temporary file
            raise too_large(self.limit)
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        upload = super().file_complete(file_size)
        if upload is not None:
            upload.sha256 = (self.sha256.hexdigest(), file_size)
        return upload
