import threading
from collections import OrderedDict

from django.db.models import Q, QuerySet, Sum

from hotapi import sql
from hotapi.api.lookups import get_by_id_or_404
from hotapi.errors import NotFound

from .models import (
    Build,
    BuildType,
    EventHandler,
    RuntimeStatus,
    Schedule,
    ScheduleKind,
    ScheduleStatus,
    ServingVersion,
)

BUILD_ORDER = ("-deployed", "-created_at", "-id")


def build_list(*, environment) -> QuerySet[Build]:
    return (
        Build.objects.filter(project__environment=environment)
        .select_related("project")
        .order_by(*BUILD_ORDER)
    )


def project_build_list(*, project) -> QuerySet[Build]:
    return Build.objects.filter(project=project).order_by(*BUILD_ORDER)


def build_get(*, project, build_id: str) -> Build:
    return get_by_id_or_404(Build.objects.filter(project=project), build_id, "Build not found")


def deployed_build(*, project) -> Build:
    build = Build.objects.filter(
        project=project, deployed=True, runtime_status=RuntimeStatus.READY
    ).first()
    if build is None:
        raise NotFound("No deployed build for this project")
    return build


def live_build(*, project) -> Build:
    build = Build.objects.filter(project=project, build_type=BuildType.LIVE).first()
    if build is None:
        raise NotFound("No live build for this project")
    return build


def deployed_event_handlers(*, project) -> QuerySet[EventHandler]:
    return EventHandler.objects.filter(build__project=project, build__deployed=True).order_by(
        "event_type", "ns", "var", "id"
    )


def deployed_schedules(*, project) -> QuerySet[Schedule]:
    return Schedule.objects.filter(build__project=project, build__deployed=True).order_by(
        "ns", "var", "id"
    )


def storage_used_bytes(*, environment) -> int:
    """Bytes of stored bundles in the environment (a meter of ``environments.usage``)."""
    total = Build.objects.filter(project__environment=environment).aggregate(total=Sum("size"))
    return total["total"] or 0


def active_schedules(*, environment) -> int:
    """Schedules that fire in active projects: those of deployed builds and the active dynamic
    ones (a meter of ``environments.usage``)."""
    return Schedule.objects.filter(
        Q(kind=ScheduleKind.DECLARED, build__deployed=True) | Q(kind=ScheduleKind.DYNAMIC),
        project__environment=environment,
        project__active=True,
        status=ScheduleStatus.ACTIVE,
    ).count()


def serving_builds(*, environment_id) -> QuerySet[Build]:
    """The builds that serve events: deployed, ready, in active projects."""
    return Build.objects.filter(
        project__environment_id=environment_id,
        project__active=True,
        deployed=True,
        active=True,
        runtime_status=RuntimeStatus.READY,
    )


def serving_event_handlers(*, environment_id, event_type: str) -> QuerySet[EventHandler]:
    """Handlers of ``event_type`` in serving builds, in a stable order."""
    return (
        EventHandler.objects.filter(
            event_type=event_type, build__in=serving_builds(environment_id=environment_id)
        )
        .select_related("build__project")
        .order_by("build__project__name", "ns", "var", "id")
    )


# --- the event handlers a worker keeps ---------------------------------------------------------

HANDLER_CACHE_SIZE = 512  # (environment, event type) pairs per process
_handlers: OrderedDict = OrderedDict()
_handlers_lock = threading.Lock()


def serving_version_sql(environment_column: str) -> str:
    """An SQL expression of the serving version of the environment in
    ``environment_column`` (0 until something it serves first changes), so a query the caller
    makes anyway reads it too."""
    version = sql.column(ServingVersion, "version")
    environment = sql.column(ServingVersion, "environment")
    return (
        f"COALESCE((SELECT {version} FROM {sql.table(ServingVersion)} "
        f"WHERE {environment} = {environment_column}), 0)"
    )


def cached_event_handlers(*, environment_id, event_type: str, version: int) -> list[EventHandler]:
    """``serving_event_handlers`` (with build and project loaded), read once per serving
    ``version`` of the environment (``serving_version_sql``, read by the caller's transaction)
    by each process: routing an event then makes no query for them. Every change to what
    serves the environment raises the version in its own transaction (``builds.signals``), so
    a version read in the routing transaction never pairs with handlers older than it.
    Callers only read the rows."""
    key = (str(environment_id), event_type)
    with _handlers_lock:
        kept = _handlers.get(key)
        if kept is not None and kept[0] == version:
            _handlers.move_to_end(key)
            return list(kept[1])
    handlers = list(serving_event_handlers(environment_id=environment_id, event_type=event_type))
    with _handlers_lock:
        _handlers[key] = (version, handlers)
        _handlers.move_to_end(key)
        while len(_handlers) > HANDLER_CACHE_SIZE:
            _handlers.popitem(last=False)
    return list(handlers)
