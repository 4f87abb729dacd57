"""Operators see the environments' files and multipart uploads; deleting a file here removes
its bytes too (files/signals.py), as the API's DELETE does."""

from django.contrib import admin

from hotapi.admin import ReadOnlyAdmin

from .models import Blob, File, FileUpload


@admin.register(File)
class FileAdmin(ReadOnlyAdmin):
    deletable = True
    list_display = ["path", "size", "content_type", "environment", "updated_at"]
    list_filter = ["storage_backend", "environment"]
    search_fields = ["id", "path"]
    fields = [
        "id",
        "environment",
        "path",
        "size",
        "etag",
        "content_type",
        "storage_backend",
        "storage_key",
        "created_by_run_id",
        "updated_by_run_id",
        "created_at",
        "updated_at",
    ]


@admin.register(FileUpload)
class FileUploadAdmin(ReadOnlyAdmin):
    list_display = ["path", "status", "expected_size", "environment", "created_at", "expires_at"]
    list_filter = ["status", "environment"]
    search_fields = ["id", "path"]
    fields = [
        "id",
        "environment",
        "path",
        "status",
        "expected_size",
        "part_size",
        "content_type",
        "storage_backend",
        "created_at",
        "expires_at",
    ]


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "encoding", "size", "environment", "created_at"]
    list_filter = ["source", "encoding", "environment"]
    search_fields = ["id"]
    fields = ["id", "environment", "source", "encoding", "content_type", "size", "sha256"]
