from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from hotapi.api.pagination import paginate
from hotapi.api.permissions import body_field, needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet, LargeBodyMixin

from . import selectors, services
from .serializers import EventPublishSerializer, EventSerializer


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
        responses={201: EventSerializer, **error_responses(403)},
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
