from django.urls import path

from .sse import RunSubscribeView
from .views import EventRunsViewSet, RunViewSet

run = "runs/<str:run_id>"

urlpatterns = [
    path("runs", RunViewSet.as_view({"get": "list"}), name="run-list"),
    path("runs/stats", RunViewSet.as_view({"get": "stats"}), name="run-stats"),
    path(run, RunViewSet.as_view({"get": "retrieve"}), name="run-detail"),
    path(f"{run}/vars", RunViewSet.as_view({"get": "variables"}), name="run-vars"),
    path(f"{run}/logs", RunViewSet.as_view({"get": "logs"}), name="run-logs"),
    path(f"{run}/cancel", RunViewSet.as_view({"post": "cancel"}), name="run-cancel"),
    path(f"{run}/rerun", RunViewSet.as_view({"post": "rerun"}), name="run-rerun"),
    path(f"{run}/subscribe", RunSubscribeView.as_view(), name="run-subscribe"),
    path(
        "events/<str:event_id>/runs",
        EventRunsViewSet.as_view({"get": "list"}),
        name="event-runs",
    ),
]
