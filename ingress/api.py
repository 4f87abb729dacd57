"""``GET /v1/projects/{project}/webhooks`` and ``…/mcp-tools``: what the deployed build serves
at ``/webhook/…`` and ``/mcp/…``, with the URLs to give out."""

from drf_spectacular.utils import extend_schema

from environments.models import Environment
from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from projects.views import ProjectChildViewSet

from . import selectors
from .serializers import McpToolSerializer, WebhookSerializer


@extend_schema(tags=["builds"])
class IngressListViewSet(ProjectChildViewSet):
    permission_rules = {
        "webhooks": needs("build", "read"),
        "mcp_tools": needs("build", "read"),
    }

    def get_serializer_context(self):
        environment = Environment.objects.select_related("organization").get(pk=self.environment.pk)
        return {**super().get_serializer_context(), "environment": environment}

    @extend_schema(
        operation_id="project_webhooks",
        description="The webhooks of the project's deployed build, with their URLs (the last "
        "segment is the endpoint's secret token: share the URL only with its sender). Empty "
        "while no build is deployed.",
        responses=WebhookSerializer(many=True),
    )
    def webhooks(self, request, project_ref=None):
        webhooks = selectors.project_webhooks(project=self.get_project())
        return paginate(self, webhooks, WebhookSerializer, context=self.get_serializer_context())

    @extend_schema(
        operation_id="project_mcp_tools",
        description="The MCP tools of the project's deployed build, with their schemas and the "
        "MCP endpoint of their service. Empty while no build is deployed.",
        responses=McpToolSerializer(many=True),
    )
    def mcp_tools(self, request, project_ref=None):
        tools = selectors.project_mcp_tools(project=self.get_project())
        return paginate(self, tools, McpToolSerializer, context=self.get_serializer_context())
