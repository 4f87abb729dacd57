from django.apps import AppConfig


class BuildsConfig(AppConfig):
    name = "builds"

    def ready(self) -> None:
        from environments.usage import ACTIVE_SCHEDULES, STORAGE_BYTES, register_meter

        from . import signals  # noqa: F401  (connects the receivers)
        from .selectors import active_schedules, storage_used_bytes

        register_meter(STORAGE_BYTES, storage_used_bytes)
        register_meter(ACTIVE_SCHEDULES, active_schedules)
