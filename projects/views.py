from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet

from . import selectors, services
from .serializers import ProjectSerializer, ProjectWriteSerializer


class ProjectChildViewSet(EnvironmentScopedViewSet):
    """Base for a project and the resources under it: ``/projects/{project_ref}[/...]``."""

    def get_project(self):
        return selectors.project_get(environment=self.environment, ref=self.kwargs["project_ref"])


@extend_schema(tags=["projects"])
class ProjectViewSet(ProjectChildViewSet):
    serializer_class = ProjectSerializer
    permission_rules = {
        "list": needs("project", "read"),
        "retrieve": needs("project", "read"),
        "create": needs("project", "create"),
        "partial_update": needs("project", "update"),
        "destroy": needs("project", "delete"),
    }

    def list(self, request):
        return paginate(
            self, selectors.project_list(environment=self.environment), ProjectSerializer
        )

    @extend_schema(
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer, 200: ProjectSerializer},
        description="Creates the project (201); if one of that name exists, returns it (200), "
        "reactivated if it was inactive.",
        examples=[OpenApiExample("A project", value={"name": "billing"}, request_only=True)],
    )
    def create(self, request):
        payload = ProjectWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project, created = services.project_create(
            environment=self.environment, **payload.validated_data
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ProjectSerializer(project).data, status=code)

    def retrieve(self, request, project_ref=None):
        return Response(ProjectSerializer(self.get_project()).data)

    @extend_schema(
        request=ProjectWriteSerializer, responses={200: ProjectSerializer, **error_responses(409)}
    )
    def partial_update(self, request, project_ref=None):
        payload = ProjectWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project = services.project_rename(project=self.get_project(), **payload.validated_data)
        return Response(ProjectSerializer(project).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, project_ref=None):
        services.project_delete(project=self.get_project())
        return Response(status=status.HTTP_204_NO_CONTENT)
