"""The response envelope: ``{"data", ["pagination",] "meta"}``; errors pass through as built."""

from rest_framework.renderers import JSONRenderer

from hotapi.timestamps import utc_timestamp

from .middleware import request_id_for


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
