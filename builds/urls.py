from django.urls import path

from .views import DeployedDiscoveryViewSet, EnvironmentBuildViewSet, ProjectBuildViewSet

project_builds = "projects/<str:project_ref>/builds"
builds = ProjectBuildViewSet

urlpatterns = [
    path("builds", EnvironmentBuildViewSet.as_view({"get": "list"}), name="build-list-all"),
    path(project_builds, builds.as_view({"get": "list", "post": "create"}), name="build-list"),
    path(f"{project_builds}/deployed", builds.as_view({"get": "deployed"}), name="build-deployed"),
    path(f"{project_builds}/live", builds.as_view({"get": "live"}), name="build-live"),
    path(
        f"{project_builds}/<str:build_id>", builds.as_view({"get": "retrieve"}), name="build-detail"
    ),
    path(
        f"{project_builds}/<str:build_id>/download",
        builds.as_view({"get": "download"}),
        name="build-download",
    ),
    path(
        f"{project_builds}/<str:build_id>/deploy",
        builds.as_view({"post": "deploy"}),
        name="build-deploy",
    ),
    path(
        "projects/<str:project_ref>/event-handlers",
        DeployedDiscoveryViewSet.as_view({"get": "event_handlers"}),
        name="event-handlers",
    ),
    path(
        "projects/<str:project_ref>/schedules",
        DeployedDiscoveryViewSet.as_view({"get": "schedules"}),
        name="schedules",
    ),
]
