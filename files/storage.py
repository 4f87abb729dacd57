"""The ``files`` storage: where the bytes of files, upload parts and blobs are kept.

Objects are named by this app (``<environment>/files/<uuid>``, ``…/parts/…``,
``…/blobs/<uuid>``), never by a user's path: a new write is always a new object, so a file's
row can switch to it in one transaction and readers see the old bytes or the new ones, never a
mix. Bytes are streamed in and out in chunks, never held whole in memory. On S3 a multipart
upload is S3's own; on local storage each part is an object, concatenated on completion.
"""

import hashlib
import io
import logging
import os
import shutil
import tempfile
import uuid

from django.conf import settings
from django.core.files import File as DjangoFile
from django.core.files.storage import storages
from django.db import transaction

from hotapi.errors import TooLarge

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024


def files_storage():
    return storages["files"]


def is_s3(storage=None) -> bool:
    storage = storage or files_storage()
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def backend_name() -> str:
    return "s3" if is_s3() else "local"


def new_key(environment_id, kind: str) -> str:
    return f"{environment_id}/{kind}/{uuid.uuid4().hex}"


class MeteredReader:
    """A readable stream that counts and hashes what passes through it, and stops with
    ``TooLarge`` once more than ``limit`` bytes arrived (also when no length was declared)."""

    closed = False

    def __init__(self, source, limit: int, *, too_large: TooLarge | None = None):
        self.source = source
        self.limit = limit
        self.too_large = too_large
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(CHUNK_BYTES if size is None or size < 0 else size)
        if isinstance(chunk, str):
            chunk = chunk.encode()
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.too_large or TooLarge(f"More than {self.limit} bytes were sent")
        self.md5.update(chunk)
        return chunk

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """The caller owns the source: nothing to close here."""

    @property
    def etag(self) -> str:
        return self.md5.hexdigest()


class ConcatenatedReader:
    """The objects ``keys`` read one after the other, as one stream."""

    closed = False

    def __init__(self, storage, keys: list[str]):
        self.storage = storage
        self.keys = list(keys)
        self.current = None

    def read(self, size: int = -1) -> bytes:
        size = CHUNK_BYTES if size is None or size < 0 else size
        while True:
            if self.current is None:
                if not self.keys:
                    return b""
                self.current = self.storage.open(self.keys.pop(0), "rb")
            chunk = self.current.read(size)
            if chunk:
                return chunk
            self.current.close()
            self.current = None

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


def _s3_key(storage, key: str) -> str:
    return storage._normalize_name(key)


class _Chunked(DjangoFile):
    DEFAULT_CHUNK_SIZE = CHUNK_BYTES  # Django's 64 KiB means four times the calls


def save(key: str, reader) -> None:
    """Stream ``reader`` into a new object ``key``; a failure leaves no object behind."""
    storage = files_storage()
    try:
        stored = storage.save(key, _Chunked(reader, name=key))
    except BaseException:
        delete_quietly([key])
        raise
    if stored != key:  # never happens with fresh keys; a renamed object would be lost
        delete_quietly([stored])
        raise RuntimeError(f"the storage renamed object {key!r} to {stored!r}")


def save_bytes(key: str, data: bytes) -> None:
    save(key, io.BytesIO(data))


def iter_chunks(key: str):
    """The object's bytes, a chunk at a time (S3: straight from the response body)."""
    storage = files_storage()
    if is_s3(storage):
        body = storage.bucket.Object(_s3_key(storage, key)).get()["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()
        return
    with storage.open(key, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def read_bytes(key: str) -> bytes:
    return b"".join(iter_chunks(key))


def delete_quietly(keys: list[str]) -> None:
    storage = files_storage()
    for key in keys:
        if not key:
            continue
        try:
            storage.delete(key)
        except Exception:  # one missing object must not keep the others
            log.exception("Could not delete stored object %s", key)


def delete_on_commit(keys: list[str]) -> None:
    """Remove objects once the transaction that dropped their rows has committed (never
    before: a rolled-back deletion must find its bytes)."""
    keys = [key for key in keys if key]
    if keys:
        transaction.on_commit(lambda: delete_quietly(keys))


# --- multipart uploads -----------------------------------------------------------------------


def multipart_start(key: str) -> str:
    """Begin a multipart upload of ``key``: S3's upload id, or "" on local storage."""
    storage = files_storage()
    if not is_s3(storage):
        return ""
    client = storage.connection.meta.client
    response = client.create_multipart_upload(Bucket=storage.bucket_name, Key=_s3_key(storage, key))
    return response["UploadId"]


def spool(reader) -> tempfile.SpooledTemporaryFile:
    """Everything ``reader`` yields in a temporary file (a part must be seekable for S3)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=CHUNK_BYTES, dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        while chunk := reader.read(CHUNK_BYTES):
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def multipart_part(key: str, backend_upload_id: str, number: int, part_key: str, reader) -> str:
    """Store one part; returns the storage's etag of it (S3), or "" (local, where the part is
    the object ``part_key``)."""
    storage = files_storage()
    if not is_s3(storage):
        save(part_key, reader)
        return ""
    with spool(reader) as body:
        response = storage.connection.meta.client.upload_part(
            Bucket=storage.bucket_name,
            Key=_s3_key(storage, key),
            UploadId=backend_upload_id,
            PartNumber=number,
            Body=body,
        )
    return response["ETag"]


def multipart_complete(key: str, backend_upload_id: str, parts: list[tuple[int, str, str]]):
    """Assemble the parts ``(number, part_key, backend_etag)``, in order, into ``key``."""
    storage = files_storage()
    if not is_s3(storage):
        _concatenate_local(storage, key, [part_key for _, part_key, _ in parts])
        return
    storage.connection.meta.client.complete_multipart_upload(
        Bucket=storage.bucket_name,
        Key=_s3_key(storage, key),
        UploadId=backend_upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": number, "ETag": etag} for number, _, etag in parts]
        },
    )


def _concatenate_local(storage, key: str, part_keys: list[str]) -> None:
    """The parts, in order, copied into ``key`` by the kernel (``copy_file_range``: no pass
    through Python, a reflink where the file system has them); through a stream otherwise."""
    try:
        target = storage.path(key)
    except NotImplementedError:  # a storage without local paths
        reader = ConcatenatedReader(storage, part_keys)
        try:
            save(key, reader)
        finally:
            reader.close()
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        with open(target, "xb") as out:
            for part_key in part_keys:
                with open(storage.path(part_key), "rb") as part:
                    _copy_all(part, out)
    except BaseException:
        delete_quietly([key])
        raise


def _copy_all(source, target) -> None:
    size = os.fstat(source.fileno()).st_size
    copied = 0
    try:
        while copied < size:
            done = os.copy_file_range(source.fileno(), target.fileno(), size - copied)
            if done == 0:
                break
            copied += done
    except OSError:  # not supported here (another file system, an old kernel)
        source.seek(copied)
        target.seek(0, os.SEEK_END)
        shutil.copyfileobj(source, target, CHUNK_BYTES)


def multipart_abort(key: str, backend_upload_id: str) -> None:
    storage = files_storage()
    if not is_s3(storage) or not backend_upload_id:
        return
    try:
        storage.connection.meta.client.abort_multipart_upload(
            Bucket=storage.bucket_name, Key=_s3_key(storage, key), UploadId=backend_upload_id
        )
    except Exception:  # already gone (completed, aborted, or expired by a bucket rule)
        log.warning("Could not abort S3 multipart upload of %s", key, exc_info=True)
