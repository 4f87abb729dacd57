"""Run the whole service on one machine: migrate, bootstrap, then web, worker and the
maintenance loop.

The ASGI server (uvicorn), a Celery worker and the maintenance loop (schedules, retries, the
lease reaper, the sweep) run as child processes; Ctrl-C or SIGTERM stops them all. On first
start a ``development`` environment is created and an API key printed; later starts print only
where the service listens.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from environments.models import ApiKey
from environments.services import DEFAULT_ENVIRONMENT, api_key_issue, environment_ensure
from hotapi.checks import ensure_serving_configuration

STOP_TIMEOUT_SECONDS = 15


class Command(BaseCommand):
    help = "Migrate, ensure a development environment and key, then run web and worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HOT_HOST)
        parser.add_argument("--port", type=int, default=settings.HOT_PORT)
        parser.add_argument("--no-worker", action="store_true", help="Run only the web server")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.HOT_WORKER_CONCURRENCY,
            help="Celery worker processes",
        )

    def handle(self, *args, host, port, no_worker, concurrency, **options):
        ensure_serving_configuration()
        call_command("migrate", interactive=False, verbosity=0)
        environment = environment_ensure(name=DEFAULT_ENVIRONMENT)
        if not ApiKey.objects.filter(environment=environment).exists():
            issued = api_key_issue(environment=environment, name="first key")
            self.stdout.write(
                f"Created environment '{environment.name}' with an API key (shown once):\n\n"
                f"    export HOT_API_KEY={issued.token}\n"
            )
        else:
            self.stdout.write(
                "Existing API keys kept. New key: python manage.py createapikey --env "
                f"{environment.name}"
            )
        self.stdout.write(f"Hot API on http://{host}:{port} (docs at /v1/docs)")

        commands = [
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hotapi.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "5",
            ],
        ]
        if not no_worker:
            commands.append(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "hotapi",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    str(concurrency),
                ]
            )
            commands.append(
                [sys.executable, str(settings.BASE_DIR / "manage.py"), "runmaintenance"]
            )
        self._supervise(commands)

    def _supervise(self, commands: list[list[str]]) -> None:
        children = [subprocess.Popen(command) for command in commands]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise SystemExit(f"a child process exited with status {failed[0].returncode}")
