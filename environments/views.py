from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet

from . import selectors, services
from .serializers import (
    EnvironmentSerializer,
    IssuedServiceKeySerializer,
    IssuedSessionSerializer,
    OrgUsageSerializer,
    QuotaSerializer,
    RevokedCountSerializer,
    ServiceKeyCreateSerializer,
    ServiceKeySerializer,
    ServiceKeyUpdateSerializer,
    SessionCreateSerializer,
    SessionSerializer,
)


@extend_schema(tags=["env"])
class EnvironmentView(APIView):
    permission_rules = {"get": needs("env", "read")}

    @extend_schema(operation_id="env_get", responses=EnvironmentSerializer)
    def get(self, request):
        return Response(EnvironmentSerializer(request.auth.environment).data)


@extend_schema(tags=["env"])
class QuotaView(APIView):
    permission_rules = {"get": needs("env", "read")}

    @extend_schema(operation_id="env_quota", responses=QuotaSerializer)
    def get(self, request):
        quota = selectors.environment_quota(environment=request.auth.environment)
        return Response(QuotaSerializer(quota).data)


@extend_schema(tags=["org"])
class OrgUsageView(APIView):
    """Usage and limits of the organization the credential's environment belongs to."""

    permission_rules = {"get": needs("org", "read")}

    @extend_schema(operation_id="org_usage", responses=OrgUsageSerializer)
    def get(self, request):
        usage = selectors.organization_usage(environment=request.auth.environment)
        return Response(OrgUsageSerializer(usage).data)


class IssuedByApiKeyViewSet(EnvironmentScopedViewSet):
    """Credentials an API key issues: each key sees and revokes only its own."""

    @property
    def api_key(self):
        return self.request.auth.api_key


@extend_schema(tags=["sessions"])
class SessionViewSet(IssuedByApiKeyViewSet):
    serializer_class = SessionSerializer
    permission_rules = {
        "list": needs("session", "read", api_key_only=True),
        "create": needs("session", "create", api_key_only=True),
        "destroy": needs("session", "delete", api_key_only=True),
        "revoke_all": needs("session", "delete", api_key_only=True),
    }

    def list(self, request):
        return paginate(self, selectors.session_list(api_key=self.api_key), SessionSerializer)

    @extend_schema(request=SessionCreateSerializer, responses={201: IssuedSessionSerializer})
    def create(self, request):
        payload = SessionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.session_create(api_key=self.api_key, **payload.validated_data)
        data = {**SessionSerializer(issued.session).data, "token": issued.token}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, session_id=None):
        session = selectors.session_get(api_key=self.api_key, session_id=session_id)
        services.session_revoke(session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="sessions_revoke_all",
        request=None,
        responses={200: RevokedCountSerializer},
    )
    def revoke_all(self, request):
        revoked = services.sessions_revoke(sessions=selectors.session_list(api_key=self.api_key))
        return Response({"revoked_count": len(revoked)})


@extend_schema(tags=["service-keys"])
class ServiceKeyViewSet(IssuedByApiKeyViewSet):
    serializer_class = ServiceKeySerializer
    permission_rules = {
        "list": needs("key", "read", api_key_only=True),
        "retrieve": needs("key", "read", api_key_only=True),
        "create": needs("key", "create", api_key_only=True),
        "partial_update": needs("key", "update", api_key_only=True),
        "destroy": needs("key", "delete", api_key_only=True),
        "revoke_all": needs("key", "delete", api_key_only=True),
    }

    def get_service_key(self):
        return selectors.service_key_get(
            api_key=self.api_key, service_key_id=self.kwargs["service_key_id"]
        )

    def list(self, request):
        keys = selectors.service_key_list(api_key=self.api_key)
        return paginate(self, keys, ServiceKeySerializer)

    @extend_schema(request=ServiceKeyCreateSerializer, responses={201: IssuedServiceKeySerializer})
    def create(self, request):
        payload = ServiceKeyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = {key: value for key, value in payload.validated_data.items() if value is not None}
        issued = services.service_key_create(api_key=self.api_key, **fields)
        data = {**ServiceKeySerializer(issued.service_key).data, "token": issued.token}
        return Response(data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, service_key_id=None):
        return Response(ServiceKeySerializer(self.get_service_key()).data)

    @extend_schema(
        request=ServiceKeyUpdateSerializer,
        responses={200: ServiceKeySerializer, **error_responses(409)},
    )
    def partial_update(self, request, service_key_id=None):
        payload = ServiceKeyUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service_key = services.service_key_update(
            service_key=self.get_service_key(), **payload.validated_data
        )
        return Response(ServiceKeySerializer(service_key).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, service_key_id=None):
        services.service_key_revoke(service_key=self.get_service_key())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="service_keys_revoke_all",
        request=None,
        responses={200: RevokedCountSerializer},
    )
    def revoke_all(self, request):
        keys = selectors.service_key_list(api_key=self.api_key)
        return Response({"revoked_count": len(services.service_keys_revoke(service_keys=keys))})
