from django.conf import settings
from rest_framework import serializers

from hostio.files import MAX_PATH_CHARS, PATH_PATTERN
from hotapi.api.serializers import (
    ModelSerializer,
    StrictCharField,
    StrictRegexField,
    StrictSerializer,
    UTCDateTimeField,
)

from .blobs import rehydrate_for_response, response_rehydrator
from .models import File, FileUpload, FileUploadPart
from .services import parts_expected


class FileSerializer(ModelSerializer):
    file_id = serializers.UUIDField(source="id", read_only=True)
    created_by_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    updated_by_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = File
        fields = [
            "file_id",
            "path",
            "size",
            "etag",
            "content_type",
            "storage_backend",
            "created_by_run_id",
            "updated_by_run_id",
            "created_at",
            "updated_at",
        ]


PATH_RULE = (
    'must name a file: control characters and \\ * ? " < > | # % { } ^ ` [ ] are not allowed, '
    "nor a '..' segment"
)


class UploadInitiateSerializer(StrictSerializer):
    path = StrictRegexField(
        PATH_PATTERN, max_length=MAX_PATH_CHARS, error_messages={"invalid": PATH_RULE}
    )
    expected_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=settings.HOT_FILE_MAX_BYTES
    )
    content_type = StrictCharField(
        required=False, allow_null=True, max_length=255, trim_whitespace=False
    )


class UploadSerializer(ModelSerializer):
    upload_id = serializers.UUIDField(source="id", read_only=True)
    parts_expected = serializers.SerializerMethodField()
    expires_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = FileUpload
        fields = ["upload_id", "path", "part_size", "parts_expected", "expires_at"]

    def get_parts_expected(self, upload: FileUpload) -> int | None:
        return parts_expected(upload)


class UploadPartSerializer(ModelSerializer):
    part_number = serializers.IntegerField(source="number", read_only=True)

    class Meta:
        model = FileUploadPart
        fields = ["part_number", "size", "etag"]


class BlobListSerializer(serializers.ListSerializer):
    """A list whose rows may hold blob references: the page's blobs are looked up at once."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        self.child.prefetch_blobs(rows)
        return [self.child.to_representation(row) for row in rows]


class BlobPayloadsMixin:
    """For serializers of rows with payloads kept partly as blobs (``blob_fields``): the
    payloads are shown whole (``files.blobs``). Their ``Meta`` sets
    ``list_serializer_class = BlobListSerializer``."""

    blob_fields: tuple[str, ...] = ()

    def blob_environment_id(self, row):
        return row.environment_id

    def prefetch_blobs(self, rows) -> None:
        if rows:
            rehydrator = response_rehydrator(self.context, self.blob_environment_id(rows[0]))
            if rehydrator is not None:
                rehydrator.prefetch(
                    [getattr(row, name) for row in rows for name in self.blob_fields]
                )

    def to_representation(self, row):
        data = super().to_representation(row)
        for name in self.blob_fields:
            data[name] = rehydrate_for_response(
                data[name], context=self.context, environment_id=self.blob_environment_id(row)
            )
        return data
