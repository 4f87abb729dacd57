from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from hotapi.api.pagination import paginate
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

    def list(self, request):
        return paginate(
            self, selectors.project_list(environment=self.environment), ProjectSerializer
        )

    @extend_schema(
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer, **error_responses(409)},
        examples=[OpenApiExample("A project", value={"name": "billing"}, request_only=True)],
    )
    def create(self, request):
        payload = ProjectWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project = services.project_create(environment=self.environment, **payload.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

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
