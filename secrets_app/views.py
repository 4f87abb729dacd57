from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from projects.views import ProjectChildViewSet

from . import selectors, services
from .serializers import (
    ContextCreateSerializer,
    ContextUpdateSerializer,
    ContextVariableSerializer,
)


@extend_schema(tags=["context"])
class ContextVariableViewSet(ProjectChildViewSet):
    """Context variables of a project. Values are write-only: never returned."""

    serializer_class = ContextVariableSerializer
    permission_rules = {
        "list": needs("context", "read"),
        "create": needs("context", "create"),
        "update": needs("context", "update"),
        "destroy": needs("context", "delete"),
    }
    lookup_url_kwarg = "key"
    lookup_value_regex = "[^/]+"

    def list(self, request, project_ref=None):
        queryset = selectors.context_list(project=self.get_project())
        return paginate(self, queryset, ContextVariableSerializer)

    @extend_schema(
        request=ContextCreateSerializer,
        responses={201: ContextVariableSerializer, **error_responses(409)},
        examples=[
            OpenApiExample(
                "An API token",
                value={
                    "key": "STRIPE_API_KEY",
                    "value": "sk_live_...",
                    "description": "Charges customers",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, project_ref=None):
        payload = ContextCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        variable = services.context_create(project=self.get_project(), **payload.validated_data)
        return Response(ContextVariableSerializer(variable).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContextUpdateSerializer, responses=ContextVariableSerializer)
    def update(self, request, project_ref=None, key=None):
        payload = ContextUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        variable = services.context_update(
            project=self.get_project(), key=key, **payload.validated_data
        )
        return Response(ContextVariableSerializer(variable).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, project_ref=None, key=None):
        services.context_delete(project=self.get_project(), key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
