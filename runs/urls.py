from django.urls import path

from events.sse import RunSubscribeView

from .views import RunViewSet

urlpatterns = [
    path("runs", RunViewSet.as_view({"get": "list"}), name="run-list"),
    path("runs/stats", RunViewSet.as_view({"get": "stats"}), name="run-stats"),
    path("runs/<str:run_id>", RunViewSet.as_view({"get": "retrieve"}), name="run-detail"),
    path("runs/<str:run_id>/vars", RunViewSet.as_view({"get": "variables"}), name="run-vars"),
    path("runs/<str:run_id>/cancel", RunViewSet.as_view({"post": "cancel"}), name="run-cancel"),
    path("runs/<str:run_id>/rerun", RunViewSet.as_view({"post": "rerun"}), name="run-rerun"),
    path("runs/<str:run_id>/subscribe", RunSubscribeView.as_view(), name="run-subscribe"),
]
