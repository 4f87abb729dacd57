from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from hotapi.api.serializers import StrictCharField, StrictSerializer, UTCDateTimeField

from .models import PROJECT_NAME_MAX_LENGTH, Project, validate_project_name


def _validate_name(value: str) -> str:
    try:
        validate_project_name(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class ProjectSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Project
        fields = ["project_id", "env_id", "name", "active", "created_at", "updated_at"]


class ProjectWriteSerializer(StrictSerializer):
    name = StrictCharField(
        max_length=PROJECT_NAME_MAX_LENGTH,
        trim_whitespace=False,
        validators=[_validate_name],
        help_text="What a directory may be called: no '/', '\\' or control characters, no "
        "surrounding whitespace, not '.' or '..', and not shaped like a UUID",
    )
