from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import environment_quota
from .serializers import EnvironmentSerializer, QuotaSerializer


@extend_schema(tags=["env"])
class EnvironmentView(APIView):
    @extend_schema(operation_id="env_get", responses=EnvironmentSerializer)
    def get(self, request):
        return Response(EnvironmentSerializer(request.auth.environment).data)


@extend_schema(tags=["env"])
class QuotaView(APIView):
    @extend_schema(operation_id="env_quota", responses=QuotaSerializer)
    def get(self, request):
        quota = environment_quota(environment=request.auth.environment)
        return Response(QuotaSerializer(quota).data)
