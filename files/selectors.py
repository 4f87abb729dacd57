"""Reads on files, uploads and blobs, and the storage they take (a meter of the quota)."""

from django.db.models import QuerySet, Sum

from hostio.files import FilePathError, normalize_prefix
from hotapi.api.lookups import get_by_id_or_404

from .models import Blob, File, FileUpload, FileUploadPart, UploadStatus


def file_list(*, environment, prefix: str | None = None) -> QuerySet[File]:
    """The environment's files by path; ``prefix`` filters them (one no path could start with,
    such as ``../``, simply matches nothing)."""
    files = File.objects.filter(environment=environment).order_by("path")
    if prefix:
        try:
            files = files.filter(path__startswith=normalize_prefix(prefix))
        except FilePathError:
            return files.none()
    return files


def file_get(*, environment, file_id: str) -> File:
    return get_by_id_or_404(File.objects.filter(environment=environment), file_id, "File not found")


def upload_get(*, environment, upload_id: str) -> FileUpload:
    uploads = FileUpload.objects.filter(environment=environment)
    return get_by_id_or_404(uploads, upload_id, "Upload not found")


def blob_get(*, environment, blob_id: str) -> Blob:
    return get_by_id_or_404(Blob.objects.filter(environment=environment), blob_id, "Blob not found")


def file_storage_bytes(*, environment) -> int:
    """Files, and the parts of uploads not finished yet: what the storage quota counts."""
    files = File.objects.filter(environment=environment).aggregate(total=Sum("size"))["total"]
    parts = FileUploadPart.objects.filter(
        upload__environment=environment,
        upload__status__in=[UploadStatus.PENDING, UploadStatus.COMPLETING],
    ).aggregate(total=Sum("size"))["total"]
    return (files or 0) + (parts or 0)
