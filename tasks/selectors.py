from hotapi.api.lookups import get_by_id_or_404

from .models import Task


def task_get(*, environment, task_id: str) -> Task:
    return get_by_id_or_404(Task.objects.filter(environment=environment), task_id, "Task not found")
