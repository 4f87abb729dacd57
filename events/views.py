from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from hotapi.api.exceptions import api_error
from hotapi.api.idempotency import IDEMPOTENCY_KEY, idempotent
from hotapi.api.pagination import paginate
from hotapi.api.permissions import body_field, body_items_field, needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet, LargeBodyMixin

from . import selectors, services
from .serializers import (
    EventBatchResultSerializer,
    EventBatchSerializer,
    EventPublishSerializer,
    EventSerializer,
)


def _item_error(status_code: int, code: str, message: str, details=None) -> dict:
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"status": status_code, "error": error}


@extend_schema(tags=["events"])
class EventViewSet(LargeBodyMixin, EnvironmentScopedViewSet):
    serializer_class = EventSerializer
    # Reading events is granted for the whole type only (as the reference server).
    permission_rules = {
        "list": needs("event", "read"),
        "retrieve": needs("event", "read"),
        "create": needs("event", "create", path=body_field("event_type")),
    }

    def list(self, request):
        return paginate(self, selectors.event_list(environment=self.environment), EventSerializer)

    @extend_schema(
        request=EventPublishSerializer,
        responses={201: EventSerializer, **error_responses(403, 409)},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A signup",
                value={"event_type": "user.signup", "event_data": {"email": "ada@example.com"}},
                request_only=True,
            ),
            OpenApiExample(
                "Call a function",
                value={
                    "event_type": "hot:call",
                    "event_data": {"fn": "::app::main/add", "args": [1, 2]},
                },
                request_only=True,
            ),
        ],
    )
    @idempotent
    def create(self, request):
        payload = EventPublishSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.event_publish(
            environment=self.environment,
            source=services.EventSource.CLIENT,
            **payload.validated_data,
        )
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, event_id=None):
        event = selectors.event_get(environment=self.environment, event_id=event_id)
        return Response(EventSerializer(event).data)


@extend_schema(tags=["events"])
class EventBatchView(LargeBodyMixin, APIView):
    """``POST /v1/events/batch``: not a list, so not paginated (its own view, not an action of
    the events viewset)."""

    # Every event of a batch must be one the token may publish (else 403, nothing done).
    permission_rules = {
        "post": needs("event", "create", path=body_items_field("events", "event_type"))
    }

    @property
    def environment(self):
        return self.request.auth.environment

    @extend_schema(
        operation_id="events_batch",
        request=EventBatchSerializer,
        responses={200: EventBatchResultSerializer(many=True), **error_responses(403, 409)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        """Publish up to 1,000 events in one transaction; each item gets its own result, in
        request order (a refused item does not stop the others)."""
        payload = EventBatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        results: list[dict] = []
        valid: list[tuple[int, dict]] = []
        # One serializer for all items, each way: a DRF serializer and its bound fields form
        # reference cycles, which only the garbage collector frees. One per item (up to 1,000
        # per request) kept a gunicorn worker's heap growing by ~6 MiB per 500-event request
        # under the served collector thresholds (hotapi.wsgi), until a rare full collection.
        body = EventPublishSerializer()
        for index, item in enumerate(payload.validated_data["events"]):
            try:
                valid.append((index, body.run_validation(item)))
            except ValidationError as exc:
                results.append(
                    {
                        "index": index,
                        **_item_error(400, "bad_request", "Invalid event", exc.detail),
                    }
                )
        published = services.event_publish_batch(
            environment=self.environment,
            items=[item for _, item in valid],
            source=services.EventSource.CLIENT,
        )
        shown = EventSerializer()
        for (index, _), outcome in zip(valid, published, strict=True):
            if isinstance(outcome, Exception):
                error = api_error(outcome)
                results.append(
                    {
                        "index": index,
                        **_item_error(error.status_code, error.error_code, str(error.detail)),
                    }
                )
            else:
                results.append(
                    {"index": index, "status": 201, "event": shown.to_representation(outcome)}
                )
        results.sort(key=lambda result: result["index"])
        return Response(results)
