from rest_framework import serializers

from files.serializers import BlobListSerializer, BlobPayloadsMixin
from hotapi.api.serializers import ModelSerializer, UTCDateTimeField

from .models import Run, RunLog, RunVariable


class RunSerializer(BlobPayloadsMixin, ModelSerializer):
    blob_fields = ("result",)

    run_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    stream_id = serializers.UUIDField(read_only=True)
    build_id = serializers.UUIDField(read_only=True, allow_null=True)
    origin_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    event_id = serializers.UUIDField(read_only=True, allow_null=True)
    project_id = serializers.UUIDField(read_only=True, allow_null=True)
    project_name = serializers.SerializerMethodField()
    start_time = UTCDateTimeField(read_only=True, allow_null=True)
    stop_time = UTCDateTimeField(read_only=True, allow_null=True)
    created_at = UTCDateTimeField(read_only=True)
    next_retry_at = UTCDateTimeField(read_only=True, allow_null=True)
    result = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Run
        fields = [
            "run_id",
            "env_id",
            "stream_id",
            "build_id",
            "run_type",
            "status",
            "start_time",
            "stop_time",
            "origin_run_id",
            "event_id",
            "result",
            "project_id",
            "project_name",
            "retry_attempt",
            "next_retry_at",
            "function",
            "duration_ms",
            "created_at",
        ]
        list_serializer_class = BlobListSerializer

    def get_project_name(self, run: Run) -> str | None:
        return run.project.name if run.project_id else None


def run_json(run: Run) -> dict:
    """The run as the stream log records it (plain JSON types; a large result stays a blob
    reference, which the SSE endpoints resolve as they send it)."""
    return dict(RunSerializer(run, context={"rehydrate": False}).data)


class RunVariableSerializer(BlobPayloadsMixin, ModelSerializer):
    blob_fields = ("value",)

    var_id = serializers.UUIDField(source="id", read_only=True)
    run_id = serializers.UUIDField(read_only=True)
    start_time = UTCDateTimeField(read_only=True)
    stop_time = UTCDateTimeField(read_only=True)

    class Meta:
        model = RunVariable
        fields = ["var_id", "run_id", "ns", "var", "value", "meta", "start_time", "stop_time"]
        list_serializer_class = BlobListSerializer

    def blob_environment_id(self, variable):
        return variable.run.environment_id


class RunLogSerializer(ModelSerializer):
    run_id = serializers.UUIDField(read_only=True)
    time = UTCDateTimeField(read_only=True)

    class Meta:
        model = RunLog
        fields = ["run_id", "sequence", "time", "level", "message"]


class RunStatsSerializer(serializers.Serializer):
    total_runs = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    queued = serializers.IntegerField(help_text="Runs waiting for a worker slot (extension).")
    pending_retry = serializers.IntegerField(
        help_text="Failed runs whose next attempt is scheduled (extension)."
    )
