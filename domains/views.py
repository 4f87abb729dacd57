from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet

from . import selectors, services
from .serializers import DomainCreateSerializer, DomainSerializer, DomainVerifySerializer


@extend_schema(tags=["domains"])
class DomainViewSet(EnvironmentScopedViewSet):
    serializer_class = DomainSerializer
    permission_rules = {
        "list": needs("domain", "read"),
        "retrieve": needs("domain", "read"),
        "create": needs("domain", "create"),
        "verify": needs("domain", "update"),
        "destroy": needs("domain", "delete"),
    }

    def get_domain(self):
        return selectors.domain_get(
            environment=self.environment, domain_id=self.kwargs["domain_id"]
        )

    def list(self, request):
        domains = selectors.domain_list(environment=self.environment)
        return paginate(self, domains, DomainSerializer)

    @extend_schema(
        request=DomainCreateSerializer,
        responses={201: DomainSerializer, **error_responses(403, 409)},
    )
    def create(self, request):
        payload = DomainCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        domain = services.domain_create(environment=self.environment, **payload.validated_data)
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, domain_id=None):
        return Response(DomainSerializer(self.get_domain()).data)

    @extend_schema(request=None, responses=DomainVerifySerializer)
    def verify(self, request, domain_id=None):
        verification = services.domain_verify(domain=self.get_domain())
        return Response(DomainVerifySerializer(verification).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, domain_id=None):
        services.domain_delete(domain=self.get_domain())
        return Response(status=status.HTTP_204_NO_CONTENT)
