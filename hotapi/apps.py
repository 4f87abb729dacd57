from django.apps import AppConfig


class HotapiConfig(AppConfig):
    name = "hotapi"
    verbose_name = "Hot API"

    def ready(self) -> None:
        from .api import routes  # noqa: F401  (registers the permission check, hot.E001)
