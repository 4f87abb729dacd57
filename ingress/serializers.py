from urllib.parse import quote

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from builds.models import McpTool, Webhook
from hotapi.api.serializers import ModelSerializer


def _names(context) -> dict:
    environment = context["environment"]
    return {"organization": environment.organization.name, "environment": environment.name}


class WebhookSerializer(ModelSerializer):
    webhook_id = serializers.UUIDField(source="id", read_only=True)
    build_id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField(
        help_text="The full URL to give the sender; its last segment is the secret token."
    )

    class Meta:
        model = Webhook
        fields = [
            "webhook_id",
            "build_id",
            "service",
            "path",
            "method",
            "name",
            "auth",
            "description",
            "ns",
            "var",
            "file",
            "line",
            "url",
        ]

    @extend_schema_field(serializers.URLField())
    def get_url(self, webhook) -> str:
        path = webhook.url_path(**_names(self.context))
        return self.context["request"].build_absolute_uri(path)


class McpToolSerializer(ModelSerializer):
    mcp_tool_id = serializers.UUIDField(source="id", read_only=True)
    build_id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField(help_text="The MCP endpoint of the tool's service.")

    class Meta:
        model = McpTool
        fields = [
            "mcp_tool_id",
            "build_id",
            "service",
            "name",
            "title",
            "description",
            "auth",
            "input_schema",
            "output_schema",
            "annotations",
            "ns",
            "var",
            "file",
            "line",
            "url",
        ]

    @extend_schema_field(serializers.URLField())
    def get_url(self, tool) -> str:
        names = _names(self.context)
        path = "/mcp/" + "/".join(
            quote(part, safe="") for part in (names["organization"], names["environment"])
        )
        return self.context["request"].build_absolute_uri(f"{path}/{tool.service}")
