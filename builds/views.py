from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from hotapi.api.idempotency import IDEMPOTENCY_KEY, idempotent
from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet
from projects.views import ProjectChildViewSet

from . import selectors, services
from .serializers import (
    BuildSerializer,
    BuildUploadResultSerializer,
    BuildUploadSerializer,
    BuildWithProjectSerializer,
    DeployResultSerializer,
    EventHandlerSerializer,
    ProjectActivationSerializer,
    ScheduleSerializer,
)
from .storage import build_storage
from .uploads import BoundedTemporaryFileUploadHandler


@extend_schema(tags=["builds"])
class EnvironmentBuildViewSet(EnvironmentScopedViewSet):
    serializer_class = BuildWithProjectSerializer
    permission_rules = {"list": needs("build", "read")}

    def list(self, request):
        builds = selectors.build_list(environment=self.environment)
        return paginate(self, builds, BuildWithProjectSerializer)


@extend_schema(tags=["builds"])
class ProjectBuildViewSet(ProjectChildViewSet):
    serializer_class = BuildSerializer
    parser_classes = [MultiPartParser]
    lookup_url_kwarg = "build_id"
    # Deploying needs "create" like uploading: the reference docs grant "upload builds and
    # deploy them" with build create + read.
    permission_rules = {
        "list": needs("build", "read"),
        "retrieve": needs("build", "read"),
        "deployed": needs("build", "read"),
        "live": needs("build", "read"),
        "download": needs("build", "read"),
        "create": needs("build", "create"),
        "deploy": needs("build", "create"),
    }

    def list(self, request, project_ref=None):
        builds = selectors.project_build_list(project=self.get_project())
        return paginate(self, builds, BuildSerializer)

    @extend_schema(
        request={"multipart/form-data": BuildUploadSerializer},
        responses={
            201: BuildUploadResultSerializer,
            200: BuildUploadResultSerializer,
            **error_responses(409),
        },
    )
    def create(self, request, project_ref=None):
        project = self.get_project()  # 404 before the multipart body is parsed
        limit = settings.HOT_BUILD_MAX_BYTES
        request._request.upload_handlers = [
            BoundedTemporaryFileUploadHandler(request._request, limit=limit)
        ]
        form = BuildUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = services.build_upload(
            project=project,
            upload=form.validated_data["file"],
            client_hash=form.validated_data["hash"],
            build_id=form.validated_data.get("build_id"),
            build_type=form.validated_data["build_type"],
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        response = Response(BuildUploadResultSerializer(result.build).data, status=code)
        response["X-Build-Exists"] = "false" if result.created else "true"
        return response

    def retrieve(self, request, project_ref=None, build_id=None):
        build = selectors.build_get(project=self.get_project(), build_id=build_id)
        return Response(BuildSerializer(build).data)

    def deployed(self, request, project_ref=None):
        return Response(BuildSerializer(selectors.deployed_build(project=self.get_project())).data)

    def live(self, request, project_ref=None):
        return Response(BuildSerializer(selectors.live_build(project=self.get_project())).data)

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)})
    def download(self, request, project_ref=None, build_id=None):
        build = selectors.build_get(project=self.get_project(), build_id=build_id)
        stored = build_storage().open(build.storage_key, "rb")
        return FileResponse(
            stored,
            as_attachment=True,
            filename=f"{build.id.hex}.hot.zip",
            content_type="application/zip",
        )

    @extend_schema(
        request=None,
        responses={200: DeployResultSerializer, **error_responses(409)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def deploy(self, request, project_ref=None, build_id=None):
        build = selectors.build_get(project=self.get_project(), build_id=build_id)
        return Response(DeployResultSerializer(services.deploy_request(build=build)).data)


@extend_schema(tags=["builds"])
class DeployedDiscoveryViewSet(ProjectChildViewSet):
    """Event handlers and schedules of the project's deployed build."""

    permission_rules = {
        "event_handlers": needs("build", "read"),
        "schedules": needs("build", "read"),
    }

    @extend_schema(responses=EventHandlerSerializer(many=True))
    def event_handlers(self, request, project_ref=None):
        handlers = selectors.deployed_event_handlers(project=self.get_project())
        return paginate(self, handlers, EventHandlerSerializer)

    @extend_schema(responses=ScheduleSerializer(many=True))
    def schedules(self, request, project_ref=None):
        schedules = selectors.deployed_schedules(project=self.get_project())
        return paginate(self, schedules, ScheduleSerializer)


@extend_schema(tags=["projects"])
class ProjectActivationViewSet(ProjectChildViewSet):
    """Activating a project redeploys its latest build; deactivating undeploys its builds. The
    routes sit under ``/projects`` but the work is the builds app's."""

    permission_rules = {
        "activate": needs("project", "update"),
        "deactivate": needs("project", "update"),
    }

    @extend_schema(request=None, responses=ProjectActivationSerializer)
    def activate(self, request, project_ref=None):
        activation = services.project_activate(project=self.get_project())
        return Response(ProjectActivationSerializer(activation).data)

    @extend_schema(request=None, responses=ProjectActivationSerializer)
    def deactivate(self, request, project_ref=None):
        activation = services.project_deactivate(project=self.get_project())
        return Response(ProjectActivationSerializer(activation).data)
