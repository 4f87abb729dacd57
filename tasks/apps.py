from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from runs import extensions
        from runs.models import RunType

        from .host import HostTasks
        from .services import on_run_change, task_limits

        extensions.on_run_change(on_run_change, run_types=[RunType.TASK])
        extensions.register_host_service("tasks", HostTasks)
        extensions.register_limits(RunType.TASK, task_limits)
