"""Stored files of an environment (``/v1/files``, ``::hot::file``), their multipart uploads,
and blobs: large payloads kept out of the database rows that reference them.

The bytes live in the ``files`` storage (local directory or S3) under keys of this app's own
(``files/storage.py``); a row names its object, and the object goes when the row goes
(``files/signals.py``). A path is unique per environment: writing it again replaces the
bytes of the same file (same id).
"""

from django.db import models
from django.db.models import Q

from hotapi.ids import uuid7

MAX_PATH_LENGTH = 1024


class File(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="files"
    )
    path = models.CharField(max_length=MAX_PATH_LENGTH)
    size = models.PositiveBigIntegerField()
    etag = models.CharField(
        max_length=64, help_text="MD5 of the bytes (of each part's MD5 for multipart uploads)"
    )
    content_type = models.CharField(max_length=255)
    storage_backend = models.CharField(max_length=16)
    storage_key = models.CharField(max_length=255)
    # The runs that wrote the file first and last (runs sit above this app: ids, not keys).
    created_by_run_id = models.UUIDField(null=True, blank=True)
    updated_by_run_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "path"], name="uniq_file_env_path")
        ]

    def __str__(self) -> str:
        return self.path


class UploadStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETING = "completing"  # the parts are being assembled
    COMPLETED = "completed"
    ABORTED = "aborted"


class FileUpload(models.Model):
    """A multipart upload: parts arrive one request each, ``complete`` makes them the file."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="file_uploads"
    )
    path = models.CharField(max_length=MAX_PATH_LENGTH)
    content_type = models.CharField(max_length=255, blank=True, default="")
    expected_size = models.PositiveBigIntegerField(null=True, blank=True)
    part_size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=UploadStatus, default=UploadStatus.PENDING)
    storage_backend = models.CharField(max_length=16)
    # Where the assembled file goes, and the storage's own upload id (S3 multipart uploads).
    storage_key = models.CharField(max_length=255)
    backend_upload_id = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status__in=["pending", "completing"]),
                name="file_upload_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} ({self.status})"


class FileUploadPart(models.Model):
    id = models.BigAutoField(primary_key=True)
    upload = models.ForeignKey(FileUpload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    etag = models.CharField(max_length=64, help_text="MD5 of the part")
    # Local storage keeps each part as an object; S3 keeps them inside its multipart upload.
    storage_key = models.CharField(max_length=255, blank=True, default="")
    backend_etag = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["upload", "number"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "number"], name="uniq_upload_part")
        ]

    def __str__(self) -> str:
        return f"{self.upload_id} #{self.number}"


class BlobEncoding(models.TextChoices):
    STRING = "string"  # a Str: UTF-8 text
    BYTES = "bytes"  # Bytes: the raw bytes
    JSON = "json"  # a whole value: its JSON text


class Blob(models.Model):
    """A large piece of a payload (event data, a run result, a variable, task arguments),
    stored as an object; the payload holds a ``::hot::blob/BlobRef`` in its place."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="blobs"
    )
    source = models.CharField(max_length=32, help_text="event_data, run_result, …")
    encoding = models.CharField(max_length=8, choices=BlobEncoding)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} blob {self.id}"
