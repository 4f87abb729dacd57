from django.db.models import QuerySet

from hotapi.api.exceptions import NotFound
from hotapi.api.lookups import parse_uuid

from .models import Event


def event_list(*, environment) -> QuerySet[Event]:
    return Event.objects.filter(environment=environment).order_by("-event_time", "-id")


def event_get(*, environment, event_id: str) -> Event:
    parsed = parse_uuid(event_id)
    event = Event.objects.filter(environment=environment, pk=parsed).first() if parsed else None
    if event is None:
        raise NotFound("Event not found")
    return event
