from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"

    def ready(self) -> None:
        from environments.usage import COMPUTE_SECONDS_THIS_MONTH, RUNS_THIS_MONTH, register_meter
        from events.dispatch import on_event_committed

        from .selectors import compute_seconds_this_month, runs_this_month
        from .tasks import dispatch_event_routing

        on_event_committed(dispatch_event_routing)
        register_meter(COMPUTE_SECONDS_THIS_MONTH, compute_seconds_this_month)
        register_meter(RUNS_THIS_MONTH, runs_this_month)
