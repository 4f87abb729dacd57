"""Where bundles are kept: the ``builds`` storage (local files or S3 through django-storages).

Stored files follow their rows: a ``Build`` deleted by any path (the API, a project's cascade,
the admin) has its file removed once the deletion has committed (see ``builds/signals.py``).
"""

import logging
import tempfile

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction

log = logging.getLogger(__name__)

COPY_CHUNK_BYTES = 1024 * 1024


def build_storage():
    return storages["builds"]


def storage_backend_name() -> str:
    return "s3" if settings.HOT_S3_BUCKET else "local"


def storage_uri(key: str) -> str:
    """Name a stored object without revealing a server path."""
    if settings.HOT_S3_BUCKET:
        return f"s3://{settings.HOT_S3_BUCKET}/{key}"
    return f"file://{key}"


def delete_stored_files(keys: list[str]) -> None:
    storage = build_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # one missing object must not keep the others
            log.exception("Could not delete stored build %s", key)


def delete_stored_file_on_commit(key: str) -> None:
    """Remove a stored bundle once the transaction that dropped its row has committed (never
    before: a rolled-back deletion must find its file)."""
    if key:
        transaction.on_commit(lambda: delete_stored_files([key]))


def temporary_copy(storage_key: str):
    """The stored bundle copied to a local temporary file (S3 objects are not seekable)."""
    handle = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)
    with build_storage().open(storage_key, "rb") as stored:
        while chunk := stored.read(COPY_CHUNK_BYTES):
            handle.write(chunk)
    handle.seek(0)
    return handle


def stored_keys(folder: str = ""):
    """Every object key in the build storage, walking folders (local or S3)."""
    try:
        folders, files = build_storage().listdir(folder)
    except FileNotFoundError:  # local storage before the first upload
        return
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for name in folders:
        yield from stored_keys(f"{folder}/{name}" if folder else name)
