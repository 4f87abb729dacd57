from rest_framework import serializers

from hotapi.api.serializers import (
    ModelSerializer,
    StrictCharField,
    StrictSerializer,
    UTCDateTimeField,
)

from .models import Environment


class EnvironmentSerializer(ModelSerializer):
    env_id = serializers.UUIDField(source="id", read_only=True)
    org_id = serializers.UUIDField(source="organization_id", read_only=True)

    class Meta:
        model = Environment
        fields = ["env_id", "org_id", "name", "active"]


class QuotaSerializer(serializers.Serializer):
    compute_used_percent = serializers.IntegerField(
        help_text="Run time used this calendar month (UTC), as a whole percentage of the "
        "environment's compute budget (may exceed 100)."
    )
    storage_used_percent = serializers.IntegerField(
        help_text="Bytes of stored builds as a whole percentage of the storage limit."
    )
    requests_per_hour = serializers.IntegerField(
        help_text="API requests allowed per hour for the environment (429 beyond)."
    )
    requests_per_second = serializers.IntegerField(
        help_text="Burst limit: API requests allowed in any one second (0: none; 429 beyond)."
    )
    max_concurrent_runs = serializers.IntegerField(
        help_text="Runs that may execute at once; further runs wait."
    )


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON number (no strings, booleans or fractions)."""

    default_error_messages = {"not_an_integer": "must be an integer number of seconds"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


PERMISSIONS_HELP = '{"<type>:<path>": ["<action>", ...]}, e.g. {"stream:*": ["read"]}'


def permissions_field() -> serializers.DictField:
    """A permission map: resource pattern → actions (checked in full by the service)."""
    return serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text=PERMISSIONS_HELP
    )


class SessionCreateSerializer(StrictSerializer):
    permissions = permissions_field()
    metadata = serializers.JSONField(required=False, allow_null=True)
    expires_in = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text="Lifetime in seconds (default 3600, at most 86400).",
    )


class SessionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField(source="id")
    permissions = serializers.JSONField()
    metadata = serializers.JSONField(allow_null=True)
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField(allow_null=True)


class IssuedSessionSerializer(SessionSerializer):
    token = serializers.CharField(help_text="The session token; shown only in this response.")


class ServiceKeyCreateSerializer(StrictSerializer):
    name = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    permissions = permissions_field()
    metadata = serializers.JSONField(required=False, allow_null=True)
    expires_in = StrictIntegerField(
        required=False, allow_null=True, help_text="Lifetime in seconds; null: never expires."
    )


class ServiceKeyUpdateSerializer(StrictSerializer):
    metadata = serializers.JSONField(required=False, allow_null=True)
    name = StrictCharField(required=False, allow_blank=True, max_length=255)
    description = StrictCharField(required=False, allow_blank=True)


class ServiceKeySerializer(serializers.Serializer):
    service_key_id = serializers.UUIDField(source="id")
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    permissions = serializers.JSONField()
    metadata = serializers.JSONField(allow_null=True)
    expires_at = UTCDateTimeField(allow_null=True)
    revoked_at = UTCDateTimeField(allow_null=True)
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField(allow_null=True)

    def get_name(self, service_key) -> str | None:
        return service_key.name or None

    def get_description(self, service_key) -> str | None:
        return service_key.description or None


class IssuedServiceKeySerializer(ServiceKeySerializer):
    token = serializers.CharField(help_text="The service key token; shown only in this response.")


class RevokedCountSerializer(serializers.Serializer):
    revoked_count = serializers.IntegerField()


class OrgUsageCountsSerializer(serializers.Serializer):
    runs_this_period = serializers.IntegerField()
    file_storage_bytes = serializers.IntegerField()
    team_members = serializers.IntegerField()
    call_storage_bytes = serializers.IntegerField()
    call_count = serializers.IntegerField()
    store_storage_bytes = serializers.IntegerField()
    active_schedules = serializers.IntegerField()


class OrgLimitsSerializer(serializers.Serializer):
    runs_per_month = serializers.IntegerField()
    storage_bytes = serializers.IntegerField()
    team_members = serializers.IntegerField()
    call_retention_days = serializers.IntegerField()
    call_storage_bytes = serializers.IntegerField()
    store_storage_bytes = serializers.IntegerField()
    compute_units_per_month = serializers.IntegerField()
    compute_units_used = serializers.IntegerField()
    compute_units_budget = serializers.IntegerField()
    task_minutes_per_month = serializers.IntegerField()
    active_schedules_per_org = serializers.IntegerField()


class OrgUsagePercentSerializer(serializers.Serializer):
    runs = serializers.FloatField()
    file_storage = serializers.FloatField()
    team_members = serializers.FloatField()
    call_storage = serializers.FloatField()
    store_storage = serializers.FloatField()
    active_schedules = serializers.FloatField()
    compute = serializers.FloatField()
    has_warning = serializers.BooleanField()


class OrgPlanSerializer(serializers.Serializer):
    name = serializers.CharField()
    period_start = UTCDateTimeField()
    period_end = UTCDateTimeField()


class OrgUsageSerializer(serializers.Serializer):
    org_id = serializers.UUIDField()
    usage = OrgUsageCountsSerializer()
    limits = OrgLimitsSerializer(help_text="-1 means unlimited.")
    usage_percent = OrgUsagePercentSerializer()
    plan = OrgPlanSerializer()
