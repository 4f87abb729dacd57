from django.urls import path

from .views import (
    DeployedDiscoveryViewSet,
    EnvironmentBuildViewSet,
    ProjectActivationViewSet,
    ProjectBuildViewSet,
)

project = "projects/<str:project_ref>"
builds = ProjectBuildViewSet
build = f"{project}/builds/<str:build_id>"

urlpatterns = [
    path("builds", EnvironmentBuildViewSet.as_view({"get": "list"}), name="build-list-all"),
    path(
        f"{project}/builds",
        builds.as_view({"get": "list", "post": "create"}),
        name="build-list",
    ),
    path(f"{project}/builds/deployed", builds.as_view({"get": "deployed"}), name="build-deployed"),
    path(f"{project}/builds/live", builds.as_view({"get": "live"}), name="build-live"),
    path(build, builds.as_view({"get": "retrieve"}), name="build-detail"),
    path(f"{build}/download", builds.as_view({"get": "download"}), name="build-download"),
    path(f"{build}/deploy", builds.as_view({"post": "deploy"}), name="build-deploy"),
    path(
        f"{project}/event-handlers",
        DeployedDiscoveryViewSet.as_view({"get": "event_handlers"}),
        name="event-handlers",
    ),
    path(
        f"{project}/schedules",
        DeployedDiscoveryViewSet.as_view({"get": "schedules"}),
        name="schedules",
    ),
    path(
        f"{project}/activate",
        ProjectActivationViewSet.as_view({"post": "activate"}),
        name="project-activate",
    ),
    path(
        f"{project}/deactivate",
        ProjectActivationViewSet.as_view({"post": "deactivate"}),
        name="project-deactivate",
    ),
]
