"""Run the maintenance loop: schedules, retries, the lease reaper, the sweep, pruning.

One per deployment is enough; a second (for availability) is safe. It needs the database, not
the broker. SIGTERM or Ctrl-C stops it after the job in progress.
"""

import signal

from django.core.management.base import BaseCommand

from hotapi.maintenance import MaintenanceLoop


class Command(BaseCommand):
    help = "Run the periodic work (schedules, retries, lease reaper, sweep) until stopped."

    def handle(self, *args, **options):
        loop = MaintenanceLoop()

        def stop(signum, frame):
            loop.stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write("Maintenance loop running (schedules, retries, reaper, sweep)")
        loop.run_forever()
