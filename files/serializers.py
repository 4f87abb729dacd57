from rest_framework import serializers

from hotapi.api.serializers import StrictCharField, StrictSerializer, UTCDateTimeField

from .models import File, FileUpload, FileUploadPart
from .services import parts_expected


class FileSerializer(serializers.ModelSerializer):
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


class UploadInitiateSerializer(StrictSerializer):
    path = StrictCharField(max_length=4096, trim_whitespace=False)
    expected_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**63 - 1
    )
    content_type = StrictCharField(
        required=False, allow_null=True, max_length=255, trim_whitespace=False
    )


class UploadSerializer(serializers.ModelSerializer):
    upload_id = serializers.UUIDField(source="id", read_only=True)
    parts_expected = serializers.SerializerMethodField()
    expires_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = FileUpload
        fields = ["upload_id", "path", "part_size", "parts_expected", "expires_at"]

    def get_parts_expected(self, upload: FileUpload) -> int | None:
        return parts_expected(upload)


class UploadPartSerializer(serializers.ModelSerializer):
    part_number = serializers.IntegerField(source="number", read_only=True)

    class Meta:
        model = FileUploadPart
        fields = ["part_number", "size", "etag"]
