from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators watch: health and readiness, metrics, worker heartbeats, the admin
    dashboard and the configuration doctor. The top layer: it reads every app, none reads it."""

    name = "operations"
    default = True  # sites.HotAdminConfig configures django.contrib.admin
