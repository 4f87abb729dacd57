from rest_framework import serializers

from files.serializers import BlobListSerializer, BlobPayloadsMixin
from hotapi.api.serializers import (
    ModelSerializer,
    StrictRegexField,
    StrictSerializer,
    StrictUUIDField,
    UTCDateTimeField,
)

from .models import Event
from .services import EVENT_TYPE_REGEX, EVENT_TYPE_RULE


class EventSerializer(BlobPayloadsMixin, ModelSerializer):
    blob_fields = ("event_data",)

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
        list_serializer_class = BlobListSerializer


class EventPublishSerializer(StrictSerializer):
    event_type = StrictRegexField(
        EVENT_TYPE_REGEX, max_length=255, error_messages={"invalid": EVENT_TYPE_RULE}
    )
    event_data = serializers.JSONField(allow_null=True)
    stream_id = StrictUUIDField(required=False)


class EventBatchSerializer(StrictSerializer):
    events = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=1000,
        help_text="Up to 1,000 publish bodies ({event_type, event_data, stream_id?}).",
    )


class EventBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request.")
    status = serializers.IntegerField(help_text="201 when published, else the error's status.")
    event = EventSerializer(required=False, help_text="The published event.")
    error = serializers.DictField(required=False, help_text="{code, message[, details]}")
