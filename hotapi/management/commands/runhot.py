"""Run the whole service on one machine: migrate, bootstrap, then web, worker and the
maintenance loop.

The web tier is two servers behind one port, as in production: the REST API on gunicorn's sync
workers (``HOT_WEB_WORKERS``, default one per core) listening on a Unix socket, and uvicorn on
the port, which serves the server-sent-event streams itself and forwards every other request to
gunicorn (``hotapi.forwarding``). A Celery worker and the maintenance loop (schedules, retries,
the lease reaper, the sweep) run beside them; Ctrl-C or SIGTERM stops them all. Once the
server answers, the URL is printed, and on first start a ``development`` environment's API key
(never before: a server that cannot start must not use up the one showing of a key).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from environments.models import ApiKey
from environments.services import DEFAULT_ENVIRONMENT, api_key_issue, environment_ensure
from hotapi.checks import ensure_serving_configuration

STOP_TIMEOUT_SECONDS = 15
READY_TIMEOUT_SECONDS = 60


class Command(BaseCommand):
    help = "Migrate, ensure a development environment and key, then run web and worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host",
            default=settings.HOT_HOST,
            help="Address to listen on (default: HOT_HOST, %(default)s)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.HOT_PORT,
            help="Port to listen on (default: HOT_PORT, %(default)s)",
        )
        parser.add_argument("--no-worker", action="store_true", help="Run only the web server")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.HOT_WORKER_CONCURRENCY,
            help="Celery worker processes (default: HOT_WORKER_CONCURRENCY, %(default)s)",
        )

    def handle(self, *args, host, port, no_worker, concurrency, **options):
        ensure_serving_configuration()
        call_command("migrate", interactive=False, verbosity=0)
        environment_ensure(name=DEFAULT_ENVIRONMENT)
        rest_socket = self._rest_socket()
        try:
            commands = self._commands(host, port, no_worker, concurrency, rest_socket)
            self._supervise(commands, host, port, rest_socket)
        finally:
            shutil.rmtree(Path(rest_socket).parent, ignore_errors=True)

    def _announce(self, host: str, port: int) -> None:
        """Printed once the server answers: where it is, and the first key."""
        environment = environment_ensure(name=DEFAULT_ENVIRONMENT)
        url = f"http://{host}:{port}"
        if not ApiKey.objects.filter(environment=environment).exists():
            issued = api_key_issue(environment=environment, name="first key")
            self.stdout.write(
                f"Created environment '{environment.name}' with an API key (shown once):\n\n"
                f"    export HOT_API_KEY={issued.token}\n"
            )
        else:
            self.stdout.write(
                f"Existing API keys kept. New key: .venv/bin/python manage.py createapikey "
                f"--env {environment.name} (with the same HOT_DATA_DIR)"
            )
        self.stdout.write(
            f"Hot API on {url} (docs at {url}/v1/docs, admin at {url}/admin/, "
            f"health at {url}/readyz)"
        )
        self.stdout.flush()

    @staticmethod
    def _child_environment() -> dict[str, str]:
        """Children share one metrics folder (so /metrics adds every process up) and the
        encryption key (so only this command warns about a generated one)."""
        metrics_dir = settings.DATA_DIR / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # values of earlier runs are stale
        metrics_dir.mkdir(parents=True)
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        env["HOT_ENCRYPTION_KEY"] = settings.HOT_ENCRYPTION_KEY
        return env

    @staticmethod
    def _rest_socket() -> str:
        # Short: a Unix socket path is limited to ~100 bytes.
        run_dir = Path(tempfile.mkdtemp(prefix="hot-"))
        return str(run_dir / "rest.sock")

    def _commands(
        self, host: str, port: int, no_worker: bool, concurrency: int, rest_socket: str
    ) -> list[list[str]]:
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
                "--no-access-log",  # the service logs one access line per request itself
                "--no-server-header",  # no version banner for scanners
                "--lifespan",
                "off",
                "--timeout-graceful-shutdown",
                "5",
            ],
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:hotapi.gunicorn_conf",
                "--bind",
                f"unix:{rest_socket}",
                "hotapi.wsgi:application",
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
        return commands

    def _wait_until_serving(self, web: list[subprocess.Popen], host: str, port: int, stopping):
        """Until /healthz answers 200 through the port: uvicorn listens and gunicorn behind it
        answers too."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not stopping():
            for server in web:
                if server.poll() is not None:
                    raise CommandError(
                        f"The web server exited (status {server.returncode}) before it served "
                        f"on {host}:{port}. Is the port in use? Choose another with --port or "
                        "HOT_PORT."
                    )
            try:
                if httpx.get(f"http://{host}:{port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise CommandError(
                    f"The web server did not answer on {host}:{port} within "
                    f"{READY_TIMEOUT_SECONDS} s"
                )
            time.sleep(0.2)

    def _supervise(self, commands: list[list[str]], host: str, port: int, rest_socket: str):
        env = self._child_environment()
        env["HOT_REST_UPSTREAM"] = f"unix:{rest_socket}"
        children = [subprocess.Popen(command, env=env) for command in commands]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            self._wait_until_serving(children[:2], host, port, lambda: stopping)
            if not stopping:
                self._announce(host, port)
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
