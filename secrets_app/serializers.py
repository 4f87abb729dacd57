from django.conf import settings
from rest_framework import serializers

from hotapi.api.serializers import (
    ModelSerializer,
    StrictCharField,
    StrictRegexField,
    StrictSerializer,
    UTCDateTimeField,
)

from .models import ContextVariable

KEY_REGEX = r"^[A-Za-z0-9._-]{1,255}$"


def _bounded_value(value: str) -> str:
    limit = settings.HOT_CONTEXT_VALUE_MAX_BYTES
    if len(value.encode("utf-8")) > limit:
        raise serializers.ValidationError(f"must be at most {limit} bytes")
    return value


class ContextVariableSerializer(ModelSerializer):
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ContextVariable
        fields = ["key", "description", "created_at", "updated_at"]


class ContextCreateSerializer(StrictSerializer):
    key = StrictRegexField(
        KEY_REGEX,
        max_length=255,
        error_messages={"invalid": "must be 1-255 letters, digits, '.', '_' or '-'"},
    )
    value = StrictCharField(trim_whitespace=False, validators=[_bounded_value])
    description = StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=1024
    )


class ContextUpdateSerializer(StrictSerializer):
    value = StrictCharField(trim_whitespace=False, validators=[_bounded_value])
    description = StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=1024
    )
