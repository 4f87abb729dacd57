"""Writes on stored files: single-request writes (the API's PUT, Hot's ``write-file``),
deletes, and multipart uploads; and the file store Hot code reaches (``HostFiles``).

Every write streams its bytes into a new object first, outside any transaction, then records
it in one short transaction that locks the environment (the storage quota is checked and
recorded there, ``environments.services.storage_reserve``) and then the file's row, and
points the row at the new object. The replaced object is removed once that commits. So
concurrent writers of one path end with one of their files, whole, its row and bytes agreeing;
a writer that loses nothing but the race leaves no object behind.

Lock order: the environment row, then file rows, then upload rows.
"""

import hashlib
import io
import logging
import math
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from environments.models import Environment
from environments.services import storage_reserve
from hostio.files import FilePathError, content_type_for, normalize_path, normalize_prefix
from hotapi.db import retrying
from hotapi.errors import Conflict, InvalidInput, NotFound, TooLarge

from . import storage
from .models import File, FileUpload, FileUploadPart, UploadStatus

log = logging.getLogger(__name__)

MAX_PARTS = 10_000
LIST_MAX_FILES = 10_000  # list-files in Hot code answers at most this many
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


def clean_path(raw, field: str = "path") -> str:
    try:
        return normalize_path(raw)
    except FilePathError as exc:
        raise InvalidInput(f"Invalid file path: {exc}", details={field: [str(exc)]}) from None


def clean_prefix(raw) -> str:
    try:
        return normalize_prefix(raw)
    except FilePathError as exc:
        raise InvalidInput(f"Invalid prefix: {exc}", details={"prefix": [str(exc)]}) from None


# What clients send when they say nothing about the bytes (curl --data-binary, say).
UNDECLARED_TYPES = frozenset({"application/octet-stream", "application/x-www-form-urlencoded"})


def content_type_of(declared: str | None, path: str) -> str:
    """The declared media type (parameters such as ``charset`` kept) when it is one and says
    something, else the type of the path's extension."""
    if declared:
        media = declared.split(";", 1)[0].strip()
        if _MEDIA_TYPE.match(media) and media.lower() not in UNDECLARED_TYPES:
            return declared.strip()[:255]
    return content_type_for(path)


def file_too_large(limit: int) -> TooLarge:
    return TooLarge(f"File exceeds the maximum size of {limit} bytes", code="payload_too_large")


def _existing_size(environment_id, path: str) -> int:
    return (
        File.objects.filter(environment_id=environment_id, path=path)
        .values_list("size", flat=True)
        .first()
        or 0
    )


def check_quota(environment_id, path: str, size: int) -> None:
    """An early look, before any byte is stored (413 ``storage_quota_exceeded``); the write
    reserves for real when it records the file."""
    with transaction.atomic():
        storage_reserve(
            environment_id=environment_id, size=size - _existing_size(environment_id, path)
        )


def _lock_environment(environment_id) -> None:
    if not Environment.objects.select_for_update(no_key=True).filter(pk=environment_id).exists():
        raise NotFound("Environment not found")


@retrying()
def _record_file(
    *, environment_id, path, key, size, etag, content_type, run_id=None, released=0, then=None
) -> File:
    """Point the path's row at the stored object ``key`` (creating the row for a new path),
    within the quota. ``released``: bytes the quota counted for this content already (parts
    of a multipart upload, whose rows ``then`` deletes in this transaction)."""
    with transaction.atomic():
        _lock_environment(environment_id)
        existing = File.objects.select_for_update().filter(environment_id=environment_id, path=path)
        file = existing.first()
        storage_reserve(
            environment_id=environment_id,
            size=size - released - (file.size if file is not None else 0),
        )
        now = timezone.now()
        if file is None:
            file = File(environment_id=environment_id, path=path, created_by_run_id=run_id)
        else:
            storage.delete_on_commit([file.storage_key])
        file.size = size
        file.etag = etag
        file.content_type = content_type
        file.storage_backend = storage.backend_name()
        file.storage_key = key
        file.updated_by_run_id = run_id
        file.updated_at = now
        file.save()
        if then is not None:
            then()
    return file


def file_write(
    *,
    environment_id,
    path: str,
    source,
    content_type: str | None = None,
    declared_size: int | None = None,
    limit: int | None = None,
    run_id=None,
) -> File:
    """Stream ``source`` (anything with ``read(n)``) into the file at ``path``, creating or
    replacing it. ``limit`` bounds this request (the file size limit always applies)."""
    path = clean_path(path)
    limit = min(limit or settings.HOT_FILE_MAX_BYTES, settings.HOT_FILE_MAX_BYTES)
    if declared_size is not None:
        if declared_size > limit:
            raise file_too_large(limit)
        check_quota(environment_id, path, declared_size)
    key = storage.new_key(environment_id, "files")
    reader = storage.MeteredReader(source, limit, too_large=file_too_large(limit))
    storage.save(key, reader)
    try:
        return _record_file(
            environment_id=environment_id,
            path=path,
            key=key,
            size=reader.size,
            etag=reader.etag,
            content_type=content_type_of(content_type, path),
            run_id=run_id,
        )
    except BaseException:
        storage.delete_quietly([key])
        raise


def file_delete(*, file: File) -> None:
    """Remove the file; its bytes go once this commits (``files/signals.py``)."""
    with transaction.atomic():
        File.objects.filter(pk=file.pk).delete()


def file_delete_path(*, environment_id, path: str) -> bool:
    """Remove the file at ``path``; False when there is none."""
    path = clean_path(path)
    with transaction.atomic():
        deleted, _ = File.objects.filter(environment_id=environment_id, path=path).delete()
    return bool(deleted)


def file_read(*, environment_id, path: str, max_bytes: int) -> bytes:
    """The whole content of the file at ``path`` (for Hot code: bounded by ``max_bytes``)."""
    path = clean_path(path)
    for _ in range(3):  # the file may be replaced (its old object removed) while it is read
        file = File.objects.filter(environment_id=environment_id, path=path).first()
        if file is None:
            raise NotFound(f"file not found: {path}")
        if file.size > max_bytes:
            raise TooLarge(
                f"{path} is {file.size} bytes; Hot code reads files of at most {max_bytes} bytes "
                "(HOT_FILE_READ_MAX_BYTES)"
            )
        try:
            return storage.read_bytes(file.storage_key)
        except FileNotFoundError:
            continue
    raise Conflict(f"{path} kept changing while it was read")


def file_info(file: File) -> dict:
    """A file as Hot's FileMeta describes it (times in seconds since the epoch)."""
    return {
        "file_id": str(file.id),
        "path": file.path,
        "size": file.size,
        "etag": file.etag,
        "content_type": file.content_type,
        "storage_backend": file.storage_backend,
        "created_at": int(file.created_at.timestamp()),
        "updated_at": int(file.updated_at.timestamp()),
    }


class HostFiles:
    """The file store of Hot code running in a run of ``environment_id`` (``::hot::file``):
    the same files the API serves. Errors are raised with their message (hotlang makes them
    ``Result.Err`` values)."""

    def __init__(self, environment_id, run_id=None):
        self.environment_id = environment_id
        self.run_id = run_id

    def write(self, path, data: bytes, content_type=None) -> dict:
        file = file_write(
            environment_id=self.environment_id,
            path=path,
            source=io.BytesIO(data),
            content_type=content_type,
            declared_size=len(data),
            run_id=self.run_id,
        )
        return file_info(file)

    def read(self, path) -> bytes:
        return file_read(
            environment_id=self.environment_id,
            path=path,
            max_bytes=settings.HOT_FILE_READ_MAX_BYTES,
        )

    def info(self, path) -> dict | None:
        file = File.objects.filter(
            environment_id=self.environment_id, path=clean_path(path)
        ).first()
        return None if file is None else file_info(file)

    def exists(self, path) -> bool:
        return File.objects.filter(
            environment_id=self.environment_id, path=clean_path(path)
        ).exists()

    def delete(self, path) -> bool:
        return file_delete_path(environment_id=self.environment_id, path=path)

    def list(self, prefix) -> list[dict]:
        files = list(
            File.objects.filter(
                environment_id=self.environment_id, path__startswith=clean_prefix(prefix)
            ).order_by("path")[: LIST_MAX_FILES + 1]
        )
        if len(files) > LIST_MAX_FILES:
            raise TooLarge(
                f"more than {LIST_MAX_FILES} files start with {prefix!r}: list a narrower prefix"
            )
        return [file_info(file) for file in files]


# --- multipart uploads -----------------------------------------------------------------------


def suggested_part_size(expected_size: int | None) -> int:
    """The configured part size, larger when the file would otherwise need too many parts,
    within the part limits."""
    size = settings.HOT_FILE_PART_SIZE
    if expected_size:
        size = max(size, math.ceil(expected_size / MAX_PARTS))
    return max(settings.HOT_FILE_PART_MIN_BYTES, min(size, settings.HOT_FILE_UPLOAD_MAX_BYTES))


def parts_expected(upload: FileUpload) -> int | None:
    if upload.expected_size is None:
        return None
    return max(1, math.ceil(upload.expected_size / upload.part_size))


def upload_initiate(
    *, environment_id, path: str, expected_size: int | None = None, content_type=None
) -> FileUpload:
    path = clean_path(path)
    if expected_size is not None:
        if expected_size > settings.HOT_FILE_MAX_BYTES:
            raise file_too_large(settings.HOT_FILE_MAX_BYTES)
        check_quota(environment_id, path, expected_size)
    key = storage.new_key(environment_id, "files")
    backend_upload_id = storage.multipart_start(key)
    return FileUpload.objects.create(
        environment_id=environment_id,
        path=path,
        content_type=content_type_of(content_type, path) if content_type else "",
        expected_size=expected_size,
        part_size=suggested_part_size(expected_size),
        storage_backend=storage.backend_name(),
        storage_key=key,
        backend_upload_id=backend_upload_id,
        expires_at=timezone.now() + timedelta(seconds=settings.HOT_FILE_UPLOAD_EXPIRY_SECONDS),
    )


def _not_pending(upload: FileUpload) -> Conflict:
    return Conflict(f"The upload is {upload.status}", code="upload_not_pending")


def part_too_small(number: int, size: int) -> InvalidInput:
    minimum = settings.HOT_FILE_PART_MIN_BYTES
    return InvalidInput(
        f"Part {number} is {size} bytes; every part but the last must be at least {minimum} bytes",
        code="part_too_small",
    )


def _check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise InvalidInput(
            f"Part number must be between 1 and {MAX_PARTS}, got {number}",
            details={"part_number": ["out of range"]},
        )


def upload_part(
    *, upload: FileUpload, number: int, source, declared_size: int | None = None
) -> FileUploadPart:
    """Store part ``number`` (a part sent again replaces the earlier one)."""
    _check_part_number(number)
    if upload.status != UploadStatus.PENDING:
        raise _not_pending(upload)
    limit = settings.HOT_FILE_UPLOAD_MAX_BYTES
    too_large = TooLarge(f"A part is at most {limit} bytes", code="part_too_large")
    if declared_size is not None and declared_size > limit:
        raise too_large
    local = not storage.is_s3()
    part_key = storage.new_key(upload.environment_id, f"parts/{upload.id.hex}") if local else ""
    reader = storage.MeteredReader(source, limit, too_large=too_large)
    backend_etag = storage.multipart_part(
        upload.storage_key, upload.backend_upload_id, number, part_key, reader
    )
    try:
        expected = parts_expected(upload)
        if expected and number < expected and reader.size < settings.HOT_FILE_PART_MIN_BYTES:
            raise part_too_small(number, reader.size)
        return _record_part(upload, number, reader.size, reader.etag, part_key, backend_etag)
    except BaseException:
        storage.delete_quietly([part_key])
        raise


@retrying()
def _record_part(upload, number, size, etag, part_key, backend_etag) -> FileUploadPart:
    with transaction.atomic():
        _lock_environment(upload.environment_id)
        locked = FileUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.PENDING:
            raise _not_pending(locked)
        previous = FileUploadPart.objects.filter(upload=locked, number=number).first()
        others = sum(
            FileUploadPart.objects.filter(upload=locked)
            .exclude(number=number)
            .values_list("size", flat=True)
        )
        if others + size > settings.HOT_FILE_MAX_BYTES:
            raise file_too_large(settings.HOT_FILE_MAX_BYTES)
        storage_reserve(
            environment_id=locked.environment_id,
            size=size - (previous.size if previous is not None else 0),
        )
        if previous is not None:
            previous.delete()  # its object goes once this commits
        return FileUploadPart.objects.create(
            upload=locked,
            number=number,
            size=size,
            etag=etag,
            storage_key=part_key,
            backend_etag=backend_etag,
        )


def multipart_etag(parts: list[FileUploadPart]) -> str:
    """As S3 names a multipart object: the MD5 of the parts' MD5s, and the part count."""
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(bytes.fromhex(part.etag))
    return f"{digest.hexdigest()}-{len(parts)}"


def _complete_problem(upload: FileUpload, parts: list[FileUploadPart]) -> Conflict | None:
    numbers = [part.number for part in parts]
    if not numbers:
        return Conflict("No part has been uploaded", code="upload_incomplete")
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        shown = ", ".join(str(number) for number in missing[:10])
        return Conflict(f"Parts missing: {shown}", code="upload_incomplete")
    total = sum(part.size for part in parts)
    if upload.expected_size is not None and total != upload.expected_size:
        return Conflict(
            f"The parts hold {total} bytes; {upload.expected_size} were expected",
            code="upload_incomplete",
        )
    return None


@retrying()
def _begin_completion(upload: FileUpload) -> list[FileUploadPart]:
    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.PENDING:
            raise _not_pending(locked)
        parts = list(FileUploadPart.objects.filter(upload=locked).order_by("number"))
        problem = _complete_problem(locked, parts)
        if problem is not None:
            raise problem
        for part in parts[:-1]:
            if part.size < settings.HOT_FILE_PART_MIN_BYTES:
                raise part_too_small(part.number, part.size)
        locked.status = UploadStatus.COMPLETING
        locked.save(update_fields=["status", "updated_at"])
    return parts


def _set_status(upload: FileUpload, status: str, *, only_from: str) -> None:
    FileUpload.objects.filter(pk=upload.pk, status=only_from).update(
        status=status, updated_at=timezone.now()
    )


def upload_complete(*, upload: FileUpload) -> File:
    """Assemble the parts into the file at the upload's path (replacing any file there)."""
    parts = _begin_completion(upload)
    try:
        storage.multipart_complete(
            upload.storage_key,
            upload.backend_upload_id,
            [(part.number, part.storage_key, part.backend_etag) for part in parts],
        )
    except Exception as exc:
        _set_status(upload, UploadStatus.PENDING, only_from=UploadStatus.COMPLETING)
        log.warning("Could not assemble upload %s", upload.pk, exc_info=True)
        raise Conflict(
            f"The parts could not be assembled ({type(exc).__name__}); upload the parts again "
            "or start a new upload",
            code="upload_incomplete",
        ) from None
    total = sum(part.size for part in parts)

    def finish():
        FileUpload.objects.filter(pk=upload.pk).update(
            status=UploadStatus.COMPLETED, updated_at=timezone.now()
        )
        FileUploadPart.objects.filter(upload_id=upload.pk).delete()

    try:
        return _record_file(
            environment_id=upload.environment_id,
            path=upload.path,
            key=upload.storage_key,
            size=total,
            etag=multipart_etag(parts),
            content_type=upload.content_type or content_type_for(upload.path),
            released=total,
            then=finish,
        )
    except BaseException:
        storage.delete_quietly([upload.storage_key])
        # Local parts are still there to assemble again; S3 consumed its upload.
        retry_status = UploadStatus.ABORTED if upload.backend_upload_id else UploadStatus.PENDING
        _set_status(upload, retry_status, only_from=UploadStatus.COMPLETING)
        raise


@retrying()
def _close_upload(upload_id, *, expired_only=False) -> FileUpload | None:
    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().filter(pk=upload_id).first()
        if locked is None:
            return None
        if expired_only:
            if locked.status not in (UploadStatus.PENDING, UploadStatus.COMPLETING):
                return None
            if locked.expires_at > timezone.now():
                return None
        elif locked.status != UploadStatus.PENDING:
            raise _not_pending(locked)
        locked.status = UploadStatus.ABORTED
        locked.save(update_fields=["status", "updated_at"])
        FileUploadPart.objects.filter(upload=locked).delete()  # objects go on commit
    return locked


def upload_abort(*, upload: FileUpload) -> None:
    closed = _close_upload(upload.pk)
    if closed is not None:
        storage.multipart_abort(closed.storage_key, closed.backend_upload_id)


def uploads_expire(*, keep_closed_days: float = 7) -> int:
    """Abort multipart uploads past their expiry (their parts are removed), and forget closed
    uploads after ``keep_closed_days``. Returns how many were aborted."""
    now = timezone.now()
    due = FileUpload.objects.filter(
        status__in=[UploadStatus.PENDING, UploadStatus.COMPLETING], expires_at__lt=now
    ).values_list("pk", flat=True)[:500]
    aborted = 0
    for upload_id in list(due):
        closed = _close_upload(upload_id, expired_only=True)
        if closed is not None:
            storage.multipart_abort(closed.storage_key, closed.backend_upload_id)
            aborted += 1
    FileUpload.objects.filter(
        status__in=[UploadStatus.COMPLETED, UploadStatus.ABORTED],
        updated_at__lt=now - timedelta(days=keep_closed_days),
    ).delete()
    if aborted:
        log.info("Aborted %d expired multipart upload(s)", aborted)
    return aborted
