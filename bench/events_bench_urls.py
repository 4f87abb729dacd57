"""The service's URLs plus a bare Django view that inserts what ``POST /v1/events`` inserts
for an event without ``stream_id``: a new Stream, the Event row and its ``event:created``
stream-log entry (bench only).

``POST /bench/bare/events`` parses the JSON body, creates the three rows in one transaction for
the environment named by ``HOT_BENCH_ENV_ID`` and answers 201 with the event's fields. No DRF,
no authentication, no throttle, no validation, no broker message or stream wake-up; same
middleware stack, same server as ``POST /v1/events``.
"""

import json
import os

from django.db import transaction
from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from events.models import Event, Stream, StreamEntry

ENV_ID = "HOT_BENCH_ENV_ID"


@csrf_exempt
def bare_event(request):
    body = json.loads(request.body)
    environment_id = os.environ[ENV_ID]
    with transaction.atomic():
        stream = Stream.objects.create(environment_id=environment_id)
        event = Event.objects.create(
            environment_id=environment_id,
            stream=stream,
            event_type=body["event_type"],
            event_data=body["event_data"],
            event_time=timezone.now(),
        )
        summary = {  # what events.services.event_summary writes
            "event_id": str(event.id),
            "env_id": environment_id,
            "stream_id": str(stream.id),
            "event_type": event.event_type,
            "project_id": None,
        }
        StreamEntry.objects.create(
            environment_id=environment_id, stream=stream, kind="event:created", payload=summary
        )
    data = {
        "event_id": str(event.id),
        "env_id": environment_id,
        "stream_id": str(stream.id),
        "event_type": event.event_type,
        "event_data": event.event_data,
        "event_time": event.event_time.isoformat(),
        "created_at": event.created_at.isoformat(),
    }
    return JsonResponse({"data": data, "meta": {}}, status=201)


urlpatterns = [
    path("bench/bare/events", bare_event, name="bench-bare-event"),
    path("", include("hotapi.urls")),
]

handler404 = "hotapi.api.views.handler404"
handler500 = "hotapi.api.views.handler500"
