from django.db.models import QuerySet

from hotapi.api.lookups import get_by_id_or_404
from hotapi.errors import NotFound

from .models import Event, Stream


def event_list(*, environment) -> QuerySet[Event]:
    return Event.objects.filter(environment=environment).order_by("-event_time", "-id")


def event_get(*, environment, event_id: str) -> Event:
    events = Event.objects.filter(environment=environment)
    return get_by_id_or_404(events, event_id, "Event not found")


def stream_get(*, environment, stream_id) -> Stream:
    stream = Stream.objects.filter(pk=stream_id, environment=environment).first()
    if stream is None:
        raise NotFound("Stream not found")
    return stream
