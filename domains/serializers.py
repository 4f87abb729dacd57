from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hotapi.api.serializers import (
    ModelSerializer,
    StrictCharField,
    StrictSerializer,
    UTCDateTimeField,
)

from .models import Domain
from .services import challenge_name, challenge_value


class DomainCreateSerializer(StrictSerializer):
    domain = StrictCharField(max_length=254, help_text="A host name, e.g. hooks.example.com.")


class DnsRecordSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()
    purpose = serializers.ChoiceField(choices=["ownership_validation", "traffic"])


class DomainSerializer(ModelSerializer):
    domain_id = serializers.UUIDField(source="id", read_only=True)
    env_id = serializers.UUIDField(source="environment_id", read_only=True)
    dns_records = serializers.SerializerMethodField()
    routing_domain = serializers.SerializerMethodField()
    created_at = UTCDateTimeField(read_only=True)
    verified_at = UTCDateTimeField(read_only=True, allow_null=True)
    activated_at = UTCDateTimeField(read_only=True, allow_null=True)
    checked_at = UTCDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Domain
        fields = [
            "domain_id",
            "env_id",
            "domain",
            "status",
            "dns_records",
            "routing_domain",
            "created_at",
            "verified_at",
            "activated_at",
            "checked_at",
            "check_message",
        ]

    def get_routing_domain(self, domain: Domain) -> str | None:
        return settings.HOT_DOMAIN_TARGET or None

    @extend_schema_field(DnsRecordSerializer(many=True))
    def get_dns_records(self, domain: Domain) -> list[dict]:
        records = [
            {
                "type": "TXT",
                "name": challenge_name(domain),
                "value": challenge_value(domain),
                "purpose": "ownership_validation",
            }
        ]
        if settings.HOT_DOMAIN_TARGET:
            records.append(
                {
                    "type": "CNAME",
                    "name": domain.domain,
                    "value": settings.HOT_DOMAIN_TARGET,
                    "purpose": "traffic",
                }
            )
        return records


class DomainVerifySerializer(serializers.Serializer):
    domain_id = serializers.UUIDField(source="domain.id")
    domain = serializers.CharField(source="domain.domain")
    status = serializers.CharField(source="domain.status")
    message = serializers.CharField()
