from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"

    def ready(self) -> None:
        from environments.usage import STORAGE_BYTES, register_meter

        from .selectors import store_bytes

        register_meter(STORAGE_BYTES, store_bytes)
