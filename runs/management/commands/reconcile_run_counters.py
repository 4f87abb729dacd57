"""Make the run status counters (behind /v1/runs/stats) agree with the runs again."""

from django.core.management.base import BaseCommand, CommandError

from environments.models import Environment
from runs.services import run_counters_reconcile


class Command(BaseCommand):
    help = (
        "Recount runs per status and correct the counters behind /v1/runs/stats (needed only "
        "if run rows were changed outside the service, e.g. by hand in the database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--env", help="Only this environment (name); default: all")

    def handle(self, *args, env: str | None, **options):
        environments = Environment.objects.select_related("organization").order_by("pk")
        if env:
            environments = environments.filter(name=env)
            if not environments.exists():
                raise CommandError(f"No environment named {env!r}")
        total = environments.count()
        corrected = 0
        for index, environment in enumerate(environments, start=1):
            wrong = run_counters_reconcile(environment_id=environment.pk)
            corrected += bool(wrong)
            changes = ", ".join(f"{s} {was} → {now}" for s, (was, now) in wrong.items())
            self.stdout.write(f"[{index}/{total}] {environment}: {changes or 'correct'}")
        self.stdout.write(f"Corrected the counters of {corrected} of {total} environment(s).")
