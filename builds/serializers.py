from rest_framework import serializers

from hotapi.api.serializers import ModelSerializer, StrictRegexField, UTCDateTimeField
from projects.serializers import ProjectSerializer

from .models import Build, BuildType, EventHandler, Schedule
from .storage import storage_uri


class BuildSerializer(ModelSerializer):
    build_id = serializers.UUIDField(source="id", read_only=True)
    project_id = serializers.UUIDField(read_only=True)
    runtime_error = serializers.CharField(required=False)
    runtime_warnings = serializers.ListField(child=serializers.CharField(), required=False)
    storage_path = serializers.SerializerMethodField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        model = Build
        fields = [
            "build_id",
            "project_id",
            "hash",
            "size",
            "build_type",
            "deployed",
            "active",
            "runtime_status",
            "runtime_error",
            "runtime_warnings",
            "deployment_sequence",
            "created_at",
            "updated_at",
            "storage_path",
            "storage_backend",
        ]

    def get_storage_path(self, build: Build) -> str:
        return storage_uri(build.storage_key)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # As the real server does, absent optional values are omitted rather than null.
        for optional in ("runtime_error", "runtime_warnings"):
            if not data.get(optional):
                data.pop(optional, None)
        return data


class BuildWithProjectSerializer(BuildSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta(BuildSerializer.Meta):
        fields = [
            *BuildSerializer.Meta.fields[:2],
            "project_name",
            *BuildSerializer.Meta.fields[2:],
        ]


class BuildUploadResultSerializer(ModelSerializer):
    build_id = serializers.UUIDField(source="id", read_only=True)
    project_id = serializers.UUIDField(read_only=True)
    storage_path = serializers.SerializerMethodField()
    created_at = UTCDateTimeField()

    class Meta:
        model = Build
        fields = [
            "build_id",
            "project_id",
            "hash",
            "size",
            "storage_path",
            "storage_backend",
            "created_at",
            "build_type",
        ]

    def get_storage_path(self, build: Build) -> str:
        return storage_uri(build.storage_key)


class BuildUploadSerializer(serializers.Serializer):
    """Multipart form of an upload. Other form fields are ignored, as the real server does."""

    file = serializers.FileField(allow_empty_file=True)
    hash = StrictRegexField(
        r"^\s*[0-9a-fA-F]{64}\s*$",
        error_messages={"invalid": "must be 64 hex digits: the zip's SHA-256 or the bundle hash"},
        help_text="The SHA-256 of the zip, or the BLAKE3 bundle hash the Hot CLI computes",
    )
    build_id = serializers.UUIDField(required=False)
    build_type = serializers.ChoiceField(choices=BuildType.choices, default=BuildType.BUNDLE)


class DeployResultSerializer(BuildSerializer):
    """The build whose deploy was queued, with the warnings known before a worker prepares
    it."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(BuildSerializer.Meta):
        fields = [*BuildSerializer.Meta.fields, "warnings"]

    def to_representation(self, queued):
        build = BuildSerializer(queued.build, context=self.context).data
        return {**build, "warnings": list(queued.warnings)}


class ProjectActivationSerializer(serializers.Serializer):
    """The project, and the build redeployed by an activation (when it has one)."""

    project = ProjectSerializer()
    redeployed_build_id = serializers.UUIDField(required=False)

    def to_representation(self, activation):
        data = super().to_representation(activation)
        if activation.redeployed_build_id is None:
            del data["redeployed_build_id"]
        return data


class EventHandlerSerializer(ModelSerializer):
    event_handler_id = serializers.UUIDField(source="id", read_only=True)
    build_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = EventHandler
        fields = [
            "event_handler_id",
            "build_id",
            "event_type",
            "ns",
            "var",
            "once",
            "meta",
            "file",
            "line",
        ]


class ScheduleSerializer(ModelSerializer):
    schedule_id = serializers.UUIDField(source="id", read_only=True)
    build_id = serializers.UUIDField(read_only=True)
    next_fire_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "schedule_id",
            "build_id",
            "cron",
            "ns",
            "var",
            "meta",
            "file",
            "line",
            "next_fire_at",
        ]
