from rest_framework import serializers

from hotapi.api.serializers import (
    StrictRegexField,
    StrictSerializer,
    StrictUUIDField,
    UTCDateTimeField,
)

from .models import Event
from .services import EVENT_TYPE_REGEX, EVENT_TYPE_RULE


class EventSerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    stream_id = serializers.UUIDField(read_only=True)
    event_data = serializers.JSONField(allow_null=True)
    event_time = UTCDateTimeField(read_only=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Event
        fields = [
            "event_id",
            "env_id",
            "stream_id",
            "event_type",
            "event_data",
            "event_time",
            "created_at",
        ]


class EventPublishSerializer(StrictSerializer):
    event_type = StrictRegexField(
        EVENT_TYPE_REGEX, max_length=255, error_messages={"invalid": EVENT_TYPE_RULE}
    )
    event_data = serializers.JSONField(allow_null=True)
    stream_id = StrictUUIDField(required=False)
