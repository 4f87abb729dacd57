from rest_framework import serializers

from files.serializers import BlobPayloadsMixin
from hotapi.api.serializers import ModelSerializer, UTCDateTimeField

from .models import Task


class TaskSerializer(BlobPayloadsMixin, ModelSerializer):
    """A task as Hot shows it (``GET /v1/tasks/{id}``, ``task:update`` events)."""

    blob_fields = ("result",)

    task_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    stream_id = serializers.UUIDField(read_only=True)
    build_id = serializers.UUIDField(read_only=True, allow_null=True)
    run_id = serializers.UUIDField(read_only=True, allow_null=True)
    origin_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    result = serializers.JSONField(read_only=True, allow_null=True)
    start_time = UTCDateTimeField(read_only=True, allow_null=True)
    stop_time = UTCDateTimeField(read_only=True, allow_null=True)
    next_retry_at = UTCDateTimeField(read_only=True, allow_null=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "task_id",
            "env_id",
            "stream_id",
            "build_id",
            "run_id",
            "origin_run_id",
            "function_name",
            "task_type",
            "status",
            "start_time",
            "stop_time",
            "duration_ms",
            "result",
            "timeout_ms",
            "retry_attempt",
            "next_retry_at",
            "created_at",
        ]


def task_json(task: Task) -> dict:
    """The task as the stream log records it (a large result stays a blob reference, which
    the SSE endpoints resolve as they send it)."""
    return dict(TaskSerializer(task, context={"rehydrate": False}).data)
