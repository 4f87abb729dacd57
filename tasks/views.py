"""``GET /v1/tasks/{id}`` and ``GET /v1/tasks/{id}/subscribe`` (SSE ``task:update``).

Reading a task needs ``read`` on its stream, as in Hot (a session that follows a stream may
follow the tasks started on it); the stream is known once the task is, so for a credential
without ``stream:*`` the task is looked up first, and an unknown one is refused like any
resource the credential does not hold.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from events.hub import get_hub
from events.sse import TASK_KIND, SSEView, sse, updates
from events.sse_schema import TASK_UPDATE, sse_response
from hotapi.api.lookups import parse_uuid
from hotapi.api.permissions import needs
from hotapi.api.streaming import byte_stream
from hotapi.api.views import EnvironmentScopedViewSet

from . import selectors
from .models import TERMINAL_TASK_STATUSES, Task
from .serializers import TaskSerializer

UNKNOWN = "unknown-task"


def task_stream(request, view) -> str:
    """The stream of the task in the URL (a value no grant names when there is no such task
    in the credential's environment)."""
    task_id = parse_uuid(view.kwargs["task_id"])
    tasks = Task.objects.filter(environment=request.auth.environment, pk=task_id)
    stream_id = tasks.values_list("stream_id", flat=True).first() if task_id else None
    return str(stream_id) if stream_id else UNKNOWN


task_stream.label = "<task.stream_id>"

READ_TASK = needs("stream", "read", path=task_stream)


@extend_schema(tags=["tasks"])
class TaskViewSet(EnvironmentScopedViewSet):
    serializer_class = TaskSerializer
    permission_rules = {"retrieve": READ_TASK}

    def retrieve(self, request, task_id=None):
        task = selectors.task_get(environment=self.environment, task_id=task_id)
        return Response(TaskSerializer(task).data)


@extend_schema(tags=["tasks"])
class TaskSubscribeView(SSEView):
    """``task:update`` events: the current state first, then every change; closes after the
    task completed, failed, was cancelled or timed out."""

    permission_rules = {"get": READ_TASK}

    @extend_schema(
        operation_id="task_subscribe",
        description="`task:update` events: the task's current state first, then every change "
        "(retries included); the stream ends once the task has completed, failed, been "
        "cancelled or timed out.",
        responses={
            (200, "text/event-stream"): sse_response(
                "The task's state first, then every change; the stream ends with the task",
                TASK_UPDATE,
            )
        },
    )
    def get(self, request, task_id):
        environment = request.auth.environment
        task = selectors.task_get(environment=environment, task_id=task_id)
        if task.status in TERMINAL_TASK_STATUSES:  # nothing more will happen: no live tail
            frame = sse("task:update", {"task": dict(TaskSerializer(task).data)})
            response = byte_stream(request, [frame], content_type="text/event-stream")
            response["Cache-Control"] = "no-store"
            return response
        subscription = get_hub().subscribe(stream_id=task.stream_id)
        task = selectors.task_get(environment=environment, task_id=task_id)  # after subscribing
        task_id = str(task.pk)
        generator = updates(
            subscription,
            name="task:update",
            field="task",
            snapshot=dict(TaskSerializer(task).data),
            terminal=TERMINAL_TASK_STATUSES,
            follows=lambda entry: (
                entry.kind == TASK_KIND and entry.payload["task"]["task_id"] == task_id
            ),
        )
        return self.stream_response(generator, subscription)
