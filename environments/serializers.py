from rest_framework import serializers

from .models import Environment


class EnvironmentSerializer(serializers.ModelSerializer):
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
