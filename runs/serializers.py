import threading

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from builds.models import OverlapPolicy, Schedule, ScheduleStatus
from files.serializers import BlobListSerializer, BlobPayloadsMixin
from hotapi.api.serializers import (
    ModelSerializer,
    StrictCharField,
    StrictSerializer,
    UTCDateTimeField,
)

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


_stream_log_serializer = threading.local()


def run_json(run: Run) -> dict:
    """The run as the stream log records it (plain JSON types; a large result stays a blob
    reference, which the SSE endpoints resolve as they send it).

    Every state change of every run is written this way, so one serializer per thread is
    built once and reused: its fields (and their copies, which DRF makes per instance) do
    not depend on the run, and ``to_representation`` keeps no state between calls."""
    serializer = getattr(_stream_log_serializer, "value", None)
    if serializer is None:
        serializer = _stream_log_serializer.value = RunSerializer(context={"rehydrate": False})
    return dict(serializer.to_representation(run))


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


class ScheduleLastRunSerializer(serializers.Serializer):
    run_id = serializers.UUIDField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="The run's status.")
    due_at = UTCDateTimeField()
    fired_at = UTCDateTimeField()


class EnvironmentScheduleSerializer(ModelSerializer):
    """A schedule as the ``/v1/schedules`` routes show it."""

    schedule_id = serializers.UUIDField(source="id", read_only=True)
    project_id = serializers.UUIDField(read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    build_id = serializers.UUIDField(read_only=True, allow_null=True)
    function = serializers.CharField(read_only=True)
    state = serializers.SerializerMethodField(
        help_text="active, paused, cancelled (dynamic) or completed (a one-off that fired)."
    )
    cron = serializers.CharField(read_only=True, help_text="As written; empty for a one-off.")
    run_at = UTCDateTimeField(read_only=True, allow_null=True, help_text="When a one-off fires.")
    next_fire_at = UTCDateTimeField(read_only=True, allow_null=True)
    created_at = UTCDateTimeField(read_only=True, allow_null=True)
    origin_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    last_run = serializers.SerializerMethodField()
    args = serializers.JSONField(read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "schedule_id",
            "kind",
            "project_id",
            "project_name",
            "build_id",
            "function",
            "cron",
            "normalized",
            "run_at",
            "timezone",
            "overlap",
            "paused",
            "state",
            "next_fire_at",
            "last_run",
            "args",
            "origin_run_id",
            "created_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["state"] != "active":
            data["next_fire_at"] = None  # paused, cancelled or completed: it does not fire
        return data

    def get_state(self, schedule: Schedule) -> str:
        if schedule.status == ScheduleStatus.ACTIVE and schedule.paused:
            return "paused"
        return schedule.status

    @extend_schema_field(ScheduleLastRunSerializer(allow_null=True))
    def get_last_run(self, schedule: Schedule) -> dict | None:
        if getattr(schedule, "last_fired_at", None) is None:
            return None
        return ScheduleLastRunSerializer(
            {
                "run_id": schedule.last_run_id,
                "status": schedule.last_run_status,
                "due_at": schedule.last_due_at,
                "fired_at": schedule.last_fired_at,
            }
        ).data


class ScheduleUpdateSerializer(StrictSerializer):
    timezone = StrictCharField(
        required=False, max_length=64, help_text="IANA time zone name, e.g. Europe/Paris."
    )
    overlap = serializers.ChoiceField(choices=OverlapPolicy.choices, required=False)
