"""The response envelope: ``{"data", ["pagination",] "meta"}``; errors pass through as built."""

from datetime import UTC

from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from .middleware import request_id_for


def utc_timestamp(value=None) -> str:
    """RFC 3339 UTC with a ``Z`` suffix, as every timestamp in the API."""
    value = value or timezone.now()
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def request_meta(request) -> dict:
    return {"request_id": request_id_for(request), "timestamp": utc_timestamp()}


class EnvelopeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response = context.get("response")
        request = context.get("request")
        if response is None or response.status_code == 204 or response.status_code >= 400:
            return super().render(data, accepted_media_type, renderer_context)
        if getattr(response, "unwrapped", False):  # e.g. /status, which the seed shows bare
            return super().render(data, accepted_media_type, renderer_context)
        if isinstance(data, dict) and data.keys() == {"results", "pagination"}:
            body = {"data": data["results"], "pagination": data["pagination"]}
        else:
            body = {"data": data}
        body["meta"] = request_meta(request)
        return super().render(body, accepted_media_type, renderer_context)


class EventStreamRenderer(JSONRenderer):
    """Lets ``Accept: text/event-stream`` negotiate on the SSE endpoints. The streams themselves
    are written by the views; this renderer only ever renders their JSON error bodies."""

    media_type = "text/event-stream"
    format = "sse"
