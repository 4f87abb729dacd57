from django.urls import path

from .sse import RunSubscribeView
from .views import EventRunsViewSet, RunViewSet, ScheduleViewSet

run = "runs/<str:run_id>"
schedule = "schedules/<str:schedule_id>"

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
    path("schedules", ScheduleViewSet.as_view({"get": "list"}), name="schedule-list"),
    path(
        schedule,
        ScheduleViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="schedule-detail",
    ),
    path(f"{schedule}/pause", ScheduleViewSet.as_view({"post": "pause"}), name="schedule-pause"),
    path(f"{schedule}/resume", ScheduleViewSet.as_view({"post": "resume"}), name="schedule-resume"),
    path(
        f"{schedule}/trigger",
        ScheduleViewSet.as_view({"post": "trigger"}),
        name="schedule-trigger",
    ),
]
