"""The production stack of compose.yaml, started without containers: its own commands for
migrate, web (gunicorn), sse (uvicorn), worker and maintenance, behind the proxy's nginx
configuration (deploy/nginx.conf), with its environment pointed at the test database, the broker
and an S3 endpoint (moto) instead of the db, redis and s3 services.

CI machines run no container engine; this proves the commands and settings of the compose
file serve a deploy end to end (``docker compose config`` checks the file itself in CI).
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
import yaml
from django.conf import settings

from builds.bundle.writer import bundle_project
from environments.services import api_key_issue
from tests.live import BASE_DIR, TEST_ENCRYPTION_KEY, free_ports, require_tool
from tests.live import test_database_url as database_url
from tests.worker import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COMPOSE = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def replace(match):
        name, kind, rest = match.groups()
        if values.get(name):
            return values[name]
        if kind == "?":
            raise AssertionError(f"compose.yaml requires {name}: {rest}")
        return rest or ""

    return VARIABLE.sub(replace, text).replace("$$", "$")


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (False while nothing listens there yet)."""
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


class Stack:
    def __init__(self, tmp_path: Path, s3_url: str):
        self.tmp = tmp_path
        self.port, self.web_port, self.sse_port = free_ports(3)  # the proxy's, web's, sse's
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics = tmp_path / "metrics"
        self.metrics.mkdir()
        dotenv = {  # what an operator writes into .env
            "SECRET_KEY": settings.SECRET_KEY,
            "HOT_API_KEY_PEPPER": settings.HOT_API_KEY_PEPPER,  # so keys issued here verify there
            "HOT_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            "POSTGRES_PASSWORD": "unused-here",
            "HOT_S3_ACCESS_KEY_ID": "test",
            "HOT_S3_SECRET_ACCESS_KEY": "test",
        }
        environment = {
            name: interpolate(str(value), dotenv)
            for name, value in COMPOSE["x-app"]["environment"].items()
        }
        # The service hosts of the compose network, as this machine has them.
        environment.update(
            DATABASE_URL=database_url(),
            HOT_S3_ENDPOINT_URL=s3_url,
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics),
            HOT_CELERY_QUEUE=f"hot-stack-{uuid.uuid4().hex[:8]}",
            HOT_DATA_DIR=str(tmp_path / "data"),
            HOT_WORKER_HEARTBEAT_SECONDS="1",
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        )
        if settings.REDIS_URL:
            environment["REDIS_URL"] = settings.REDIS_URL
        else:  # the embedded broker stands in for the redis service
            environment.pop("REDIS_URL")
        self.env = {**os.environ, **environment}
        self.env.pop("HOT_STORAGE_DIR", None)
        self.processes: dict[str, subprocess.Popen] = {}
        self.bucket = environment["HOT_S3_BUCKET"]

    def command(self, service: str) -> list[str]:
        if service == "proxy":
            return self.proxy_command()
        text = interpolate(COMPOSE["services"][service]["command"], {})
        text = text.replace("0.0.0.0:4681", f"127.0.0.1:{self.web_port}")
        text = text.replace("--host 0.0.0.0", "--host 127.0.0.1")
        text = text.replace("--port 4682", f"--port {self.sse_port}")
        text = text.replace("/metrics", str(self.metrics))
        text = text.replace("/tmp/celerybeat-schedule", str(self.tmp / "celerybeat-schedule"))
        return shlex.split(text)

    def proxy_command(self) -> list[str]:
        """nginx with deploy/nginx.conf (what the proxy service mounts), pointed at the ports
        of this machine's web and sse."""
        require_tool("nginx", "nginx")
        prefix = self.tmp / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = (BASE_DIR / "deploy" / "nginx.conf").read_text()
        conf = conf.replace("web:4681", f"127.0.0.1:{self.web_port}")
        conf = conf.replace("sse:4682", f"127.0.0.1:{self.sse_port}")
        conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        (prefix / "nginx.conf").write_text(conf)
        directives = f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/error.log;"
        if os.geteuid() == 0:
            directives += " user root;"  # workers write the request-body buffers under prefix
        return ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", directives]

    def service_env(self, service: str) -> dict[str, str]:
        """The shared environment plus what the service sets on its own."""
        own = COMPOSE["services"].get(service, {}).get("environment", {})
        shared = COMPOSE["x-app"]["environment"]
        extra = {k: interpolate(str(v), {}) for k, v in own.items() if k not in shared}
        return {**self.env, **extra}

    def run(self, service: str) -> None:
        result = subprocess.run(
            self.command(service), cwd=BASE_DIR, env=self.env, capture_output=True, timeout=120
        )
        assert result.returncode == 0, result.stderr.decode()

    def start(self, service: str) -> None:
        log = open(self.tmp / f"{service}.log", "wb")  # noqa: SIM115  (closed with the process)
        self.processes[service] = subprocess.Popen(
            self.command(service),
            cwd=BASE_DIR,
            env=self.service_env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def serving(self, service: str, port: int) -> bool:
        """Whether ``service`` answers its health check on its own port (as compose's
        healthcheck asks); fails at once, with its log, if the process has ended."""
        returncode = self.processes[service].poll()
        assert returncode is None, f"{service} exited with {returncode}:\n{self.log(service)}"
        return answers(f"http://127.0.0.1:{port}/healthz")

    def log(self, service: str) -> str:
        return (self.tmp / f"{service}.log").read_text(errors="replace")

    def logs(self) -> str:
        """The end of each service's log and of the proxy's error log."""
        paths = {service: self.tmp / f"{service}.log" for service in self.processes}
        paths["proxy errors"] = self.tmp / "nginx" / "error.log"
        parts = []
        for name, path in paths.items():
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-60:]
                parts.append("\n".join([f"--- {name} (last {len(lines)} lines) ---", *lines]))
        return "\n".join(parts)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def stack(request, tmp_path, s3_endpoint):
    stack = Stack(tmp_path, s3_endpoint)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=stack.bucket)  # the s3-bucket service's job
    try:
        yield stack
    finally:
        stack.stop()
        # Reported with the test when it fails.
        request.node.add_report_section("teardown", "services", stack.logs())
        for item in client.list_objects_v2(Bucket=stack.bucket).get("Contents", []):
            client.delete_object(Bucket=stack.bucket, Key=item["Key"])
        client.delete_bucket(Bucket=stack.bucket)


def test_the_compose_services_serve_a_deploy_end_to_end(stack, environment):
    stack.run("migrate")
    for service in ("web", "sse", "proxy", "worker", "maintenance"):
        stack.start(service)

    # Each web service on its own port first: a port it could not bind is reported as such,
    # not as a request through the proxy that some other listener never answers.
    wait_for(lambda: stack.serving("web", stack.web_port), timeout=60, message="web")
    wait_for(lambda: stack.serving("sse", stack.sse_port), timeout=60, message="sse")
    wait_for(
        lambda: answers(f"{stack.url}/readyz"),
        timeout=60,
        message="readiness (database, broker, S3 storage, worker)",
    )
    ready = httpx.get(f"{stack.url}/readyz").json()["checks"]
    assert ready["storage"]["detail"] == f"bucket {stack.bucket} reachable"

    token = api_key_issue(environment=environment, name="stack").token
    api = httpx.Client(base_url=f"{stack.url}/v1", headers={"Authorization": f"Bearer {token}"})
    assert api.post("/projects", json={"name": "hello"}).status_code == 201
    bundle = bundle_project(BASE_DIR / "examples" / "hello")
    build = api.post(
        "/projects/hello/builds",
        files={"file": ("hello.hot.zip", bundle.data)},
        data={"hash": bundle.bundle_hash},
    ).json()["data"]
    api.post(f"/projects/hello/builds/{build['build_id']}/deploy")
    wait_for(
        lambda: (
            api.get(f"/projects/hello/builds/{build['build_id']}").json()["data"]["runtime_status"]
            == "ready"
        ),
        message="the deploy",
    )
    # The stream (sse, through the proxy unbuffered) sees the event published over REST (web).
    with api.stream("GET", "/env/subscribe", timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = {"event_type": "user.signup", "event_data": {"name": "Kay"}}
        event_id = api.post("/events", json=body).json()["data"]["event_id"]
        for line in stream.iter_lines():
            if event_id in line:
                break

    def finished():
        runs = api.get(f"/events/{event_id}/runs").json()["data"]
        return runs and runs[0]["status"] == "succeeded" and runs[0]

    run = wait_for(finished, message="the run")
    assert run["result"] == {"greeting": "Hello, Kay!"}

    metrics = httpx.get(f"{stack.url}/metrics").text
    assert "hot_run_duration_seconds_count" in metrics  # from the worker, via the shared folder
    assert 'hot_deploys_total{outcome="deployed"} 1.0' in metrics
    assert 'hot_runs{environment="default/testing",status="succeeded"}' in metrics
    assert '"logger": "hot.access"' in stack.log("web")  # HOT_LOG_FORMAT=json from compose
    assert "/v1/env/subscribe" in stack.log("sse") and "/v1/env/subscribe" not in stack.log("web")
    assert all(process.poll() is None for process in stack.processes.values())
