from django.urls import path

from .api import IngressListViewSet

project = "projects/<str:project_ref>"

urlpatterns = [
    path(
        f"{project}/webhooks",
        IngressListViewSet.as_view({"get": "webhooks"}),
        name="project-webhooks",
    ),
    path(
        f"{project}/mcp-tools",
        IngressListViewSet.as_view({"get": "mcp_tools"}),
        name="project-mcp-tools",
    ),
]
