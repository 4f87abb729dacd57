from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from events.selectors import event_get
from hotapi.api.idempotency import IDEMPOTENCY_KEY, idempotent
from hotapi.api.pagination import paginate
from hotapi.api.views import EnvironmentScopedViewSet

from . import selectors, services
from .serializers import RunSerializer, RunStatsSerializer, RunVariableSerializer

RUN_FILTERS = [
    OpenApiParameter(
        "status",
        str,
        enum=["queued", "running", "succeeded", "failed", "cancelled", "pending_retry"],
    ),
    OpenApiParameter("type", str, enum=["call", "event", "schedule", "run", "eval", "repl"]),
    OpenApiParameter("time_range", str, description="ISO 8601 duration, e.g. P7D or PT12H"),
    OpenApiParameter("project", str, description="Project name or id"),
    OpenApiParameter("event_type", str, description="Type of the triggering event"),
]


@extend_schema(tags=["runs"])
class RunViewSet(EnvironmentScopedViewSet):
    serializer_class = RunSerializer

    def get_run(self):
        return selectors.run_get(environment=self.environment, run_id=self.kwargs["run_id"])

    @extend_schema(parameters=RUN_FILTERS)
    def list(self, request):
        params = request.query_params
        runs = selectors.run_list(
            environment=self.environment,
            status=params.get("status"),
            run_type=params.get("type"),
            time_range=params.get("time_range"),
            project=params.get("project"),
            event_type=params.get("event_type"),
        )
        return paginate(self, runs, RunSerializer)

    def retrieve(self, request, run_id=None):
        return Response(RunSerializer(self.get_run()).data)

    @extend_schema(responses=RunStatsSerializer)
    def stats(self, request):
        return Response(RunStatsSerializer(selectors.run_stats(environment=self.environment)).data)

    @extend_schema(responses=RunVariableSerializer(many=True))
    def variables(self, request, run_id=None):
        return paginate(self, selectors.run_variables(run=self.get_run()), RunVariableSerializer)

    @extend_schema(request=None, responses=RunSerializer)
    def cancel(self, request, run_id=None):
        return Response(RunSerializer(services.run_cancel(run=self.get_run())).data)

    @extend_schema(request=None, responses={201: RunSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def rerun(self, request, run_id=None):
        rerun = services.run_rerun(run=self.get_run())
        return Response(RunSerializer(rerun).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["events"])
class EventRunsViewSet(EnvironmentScopedViewSet):
    """The runs an event caused (routed here: runs depend on events, not the reverse)."""

    serializer_class = RunSerializer

    @extend_schema(responses=RunSerializer(many=True))
    def list(self, request, event_id=None):
        event = event_get(environment=self.environment, event_id=event_id)
        return paginate(self, selectors.event_runs(event=event), RunSerializer)
