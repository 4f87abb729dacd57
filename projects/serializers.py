from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from hotapi.api.serializers import (
    ModelSerializer,
    StrictRegexField,
    StrictSerializer,
    UTCDateTimeField,
)

from .models import (
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_PATTERN,
    PROJECT_NAME_RULE,
    Project,
    validate_project_name,
)


def _validate_name(value: str) -> str:
    try:
        validate_project_name(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class ProjectSerializer(ModelSerializer):
    project_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Project
        fields = ["project_id", "env_id", "name", "active", "created_at", "updated_at"]


class ProjectWriteSerializer(StrictSerializer):
    name = StrictRegexField(
        PROJECT_NAME_PATTERN,
        max_length=PROJECT_NAME_MAX_LENGTH,
        validators=[_validate_name],
        error_messages={"invalid": PROJECT_NAME_RULE},
        help_text=f"A directory name: {PROJECT_NAME_RULE}; not shaped like a UUID",
    )
