from django.urls import path

from .sse import EnvSubscribeView, StreamSubscribeView, SubscribeWithEventView
from .views import EventBatchView, EventViewSet

urlpatterns = [
    path("events", EventViewSet.as_view({"get": "list", "post": "create"}), name="event-list"),
    path("events/batch", EventBatchView.as_view(), name="event-batch"),
    path("events/<str:event_id>", EventViewSet.as_view({"get": "retrieve"}), name="event-detail"),
    path(
        "streams/subscribe-with-event",
        SubscribeWithEventView.as_view(),
        name="stream-subscribe-with-event",
    ),
    path(
        "streams/<uuid:stream_id>/subscribe",
        StreamSubscribeView.as_view(),
        name="stream-subscribe",
    ),
    path("env/subscribe", EnvSubscribeView.as_view(), name="env-subscribe"),
]
