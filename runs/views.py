from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from builds.models import ScheduleKind, ScheduleStatus
from events.selectors import event_get
from hotapi.api.idempotency import IDEMPOTENCY_KEY, idempotent
from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs, url_id
from hotapi.api.schema import error_responses
from hotapi.api.views import EnvironmentScopedViewSet

from . import schedules, selectors, services
from .models import RunStatus, RunType
from .serializers import (
    EnvironmentScheduleSerializer,
    RunLogSerializer,
    RunSerializer,
    RunStatsSerializer,
    RunVariableSerializer,
    ScheduleUpdateSerializer,
)

RUN_FILTERS = [
    OpenApiParameter("status", str, enum=RunStatus.values, allow_blank=False),
    OpenApiParameter("type", str, enum=RunType.values, allow_blank=False),
    OpenApiParameter(
        "time_range",
        str,
        pattern=selectors.TIME_RANGE_PATTERN,
        description="Runs created within this ISO 8601 duration, e.g. P7D or PT12H (each number "
        "at most 9 digits); empty or `all` for no limit, and so is a range longer than "
        f"{selectors.MAX_RANGE_DAYS} days.",
    ),
    OpenApiParameter("project", str, description="Project name or id"),
    OpenApiParameter("event_type", str, description="Type of the triggering event"),
]


@extend_schema(tags=["runs"])
class RunViewSet(EnvironmentScopedViewSet):
    serializer_class = RunSerializer
    permission_rules = {
        "list": needs("run", "read"),
        "stats": needs("run", "read"),
        "retrieve": needs("run", "read", path=url_id("run_id")),
        "variables": needs("run", "read", path=url_id("run_id")),
        "logs": needs("run", "read", path=url_id("run_id")),
        "cancel": needs("run", "update", path=url_id("run_id")),
        "rerun": needs("run", "execute", path=url_id("run_id")),
    }

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

    @extend_schema(
        responses=RunLogSerializer(many=True),
        description="The run's log: printed output and the runtime's own lines, in order.",
    )
    def logs(self, request, run_id=None):
        return paginate(self, selectors.run_logs(run=self.get_run()), RunLogSerializer)

    @extend_schema(request=None, responses={200: RunSerializer, **error_responses(409)})
    def cancel(self, request, run_id=None):
        return Response(RunSerializer(services.run_cancel(run=self.get_run())).data)

    @extend_schema(
        request=None,
        responses={201: RunSerializer, **error_responses(409)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def rerun(self, request, run_id=None):
        rerun = services.run_rerun(run=self.get_run())
        return Response(RunSerializer(rerun).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["events"])
class EventRunsViewSet(EnvironmentScopedViewSet):
    """The runs an event caused (routed here: runs depend on events, not the reverse)."""

    serializer_class = RunSerializer
    permission_rules = {"list": needs("event", "read") & needs("run", "read")}

    @extend_schema(responses=RunSerializer(many=True))
    def list(self, request, event_id=None):
        event = event_get(environment=self.environment, event_id=event_id)
        return paginate(self, selectors.event_runs(event=event), RunSerializer)


SCHEDULE_FILTERS = [
    OpenApiParameter("project", str, description="Project name or id"),
    OpenApiParameter("kind", str, enum=ScheduleKind.values, allow_blank=False),
    OpenApiParameter(
        "status",
        str,
        enum=[*ScheduleStatus.values, "paused"],
        allow_blank=False,
        description="`active` includes paused schedules; `paused` lists only those.",
    ),
]


@extend_schema(tags=["schedules"])
class ScheduleViewSet(EnvironmentScopedViewSet):
    """The environment's schedules: those the deployed builds declare and the dynamic ones
    Hot code created, with their next fire time and last run."""

    serializer_class = EnvironmentScheduleSerializer
    permission_rules = {
        "list": needs("schedule", "read"),
        "retrieve": needs("schedule", "read"),
        "partial_update": needs("schedule", "update"),
        "pause": needs("schedule", "update"),
        "resume": needs("schedule", "update"),
        "trigger": needs("schedule", "execute"),
    }

    def get_schedule(self):
        return selectors.schedule_get(
            environment=self.environment, schedule_id=self.kwargs["schedule_id"]
        )

    def _answer(self):
        return Response(EnvironmentScheduleSerializer(self.get_schedule()).data)

    @extend_schema(parameters=SCHEDULE_FILTERS)
    def list(self, request):
        params = request.query_params
        rows = selectors.schedule_list(
            environment=self.environment,
            project=params.get("project"),
            kind=params.get("kind"),
            status=params.get("status"),
        )
        return paginate(self, rows, EnvironmentScheduleSerializer)

    def retrieve(self, request, schedule_id=None):
        return Response(EnvironmentScheduleSerializer(self.get_schedule()).data)

    @extend_schema(
        request=ScheduleUpdateSerializer,
        responses={200: EnvironmentScheduleSerializer},
        description="Set the time zone a recurring schedule is read in and its overlap policy.",
    )
    def partial_update(self, request, schedule_id=None):
        payload = ScheduleUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        schedules.schedule_update(
            schedule=self.get_schedule(),
            timezone_name=data.get("timezone"),
            overlap=data.get("overlap"),
        )
        return self._answer()

    @extend_schema(
        request=None, responses={200: EnvironmentScheduleSerializer, **error_responses(409)}
    )
    def pause(self, request, schedule_id=None):
        schedules.schedule_pause(schedule=self.get_schedule())
        return self._answer()

    @extend_schema(
        request=None,
        responses={200: EnvironmentScheduleSerializer, **error_responses(409)},
        description="Fire again from the next due time on (times passed while paused are not "
        "caught up).",
    )
    def resume(self, request, schedule_id=None):
        schedules.schedule_resume(schedule=self.get_schedule())
        return self._answer()

    @extend_schema(
        request=None,
        responses={201: RunSerializer, **error_responses(409)},
        parameters=[IDEMPOTENCY_KEY],
        description="Fire the schedule once now, paused or not and whatever its overlap "
        "policy; its next fire time does not change. Answers the run created.",
    )
    @idempotent
    def trigger(self, request, schedule_id=None):
        run = schedules.schedule_trigger(schedule=self.get_schedule())
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)
