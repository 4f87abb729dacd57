"""What Hot code reaches through ``::hot::task`` (the hooks' ``task_service``): start tasks,
cancel them, send them messages and wait for them from any run; receive messages and keep a
checkpoint from inside a task. Every call runs on the run's database thread."""

from hotapi.errors import InvalidInput
from hotapi.timestamps import utc_timestamp
from runs.models import Run, RunType

from . import services
from .models import Task


class HostTasks:
    def __init__(self, run: Run, run_db):
        self.run = run
        self._db = run_db
        self._own_task_id = None

    # -- any run --------------------------------------------------------------------------

    def start(self, function: str, args, options) -> dict:
        task = self._db(
            services.task_start, origin_run=self.run, function=function, args=args, options=options
        )
        policy = self.run.retry_policy or {}
        return {
            "id": str(task.pk),
            "stream": {"id": str(task.stream_id)},
            "origin-run": {
                "id": str(self.run.pk),
                "type": self.run.run_type,
                "status": "running",
                "start-time": utc_timestamp(self.run.start_time) if self.run.start_time else None,
                "retry-attempt": self.run.retry_attempt,
                "max-retries": policy.get("attempts", 0),
                "retry-delay": policy.get("delay", 0),
                "origin-run-id": str(self.run.origin_run_id) if self.run.origin_run_id else None,
            },
            "data": None,
        }

    def _task(self, task_id) -> Task:
        return services.get_task(environment_id=self.run.environment_id, task_id=task_id)

    def cancel(self, task_id) -> bool:
        return self._db(lambda: services.task_cancel(task=self._task(task_id)))

    def send(self, task_id, payload) -> bool:
        return self._db(lambda: services.task_send(task=self._task(task_id), payload=payload))

    def result(self, task_id) -> dict:
        """The task's status, and once it has ended, its outcome (for ``await``)."""
        return self._db(lambda: services.task_result(task=self._task(task_id)))

    def restore(self, task_id=None):
        if task_id is None:
            task_id = self._current("restore")
        return self._db(lambda: services.task_restore(task=self._task(task_id)))

    # -- inside a task --------------------------------------------------------------------

    def _current(self, what: str):
        if self.run.run_type != RunType.TASK:
            raise InvalidInput(f"{what} can only be called inside a task")
        if self._own_task_id is None:
            self._own_task_id = self._db(
                lambda: Task.objects.filter(run_id=self.run.pk).values_list("pk", flat=True).first()
            )
        if self._own_task_id is None:
            raise InvalidInput(f"{what}: this run belongs to no task")
        return self._own_task_id

    def receive(self) -> tuple[bool, object]:
        """(True, the next message) or (False, None) when the inbox is empty for now."""
        task_id = self._current("receive")
        return self._db(services.task_receive, task_id=task_id)

    def checkpoint(self, data) -> bool:
        task_id = self._current("checkpoint")
        self._db(
            services.task_checkpoint,
            task_id=task_id,
            environment_id=self.run.environment_id,
            data=data,
        )
        return True
