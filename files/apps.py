from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"

    def ready(self) -> None:
        from environments.usage import STORAGE_BYTES, register_meter

        from . import signals  # noqa: F401  (connects the receivers)
        from .selectors import file_storage_bytes

        register_meter(STORAGE_BYTES, file_storage_bytes)
