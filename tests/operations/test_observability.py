"""Health, readiness, metrics and logs, seen from outside: a live server and a worker sharing
a metrics folder, with JSON logs, as runhot and the compose file run them."""

import json
import re
import uuid

import httpx
import pytest
from django.test import Client

from environments.services import api_key_issue
from operations import health
from runs.models import Run
from tests.e2e.conftest import deploy_source
from tests.worker import WorkerProcess, wait_for

REQUEST_ID = "trace-0123456789"


@pytest.mark.django_db
def test_healthz_answers_without_dependencies_and_readyz_names_the_failing_check(monkeypatch):
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503  # no worker has reported
    body = ready.json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert "celery -A hotapi worker" in body["checks"]["worker"]["fix"]

    def broken():
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    body = client.get("/readyz").json()
    assert body["failing"] == ["broker", "worker"]
    assert "Connection refused" in body["checks"]["broker"]["detail"]


@pytest.mark.django_db
def test_metrics_can_require_a_token(settings):
    settings.HOT_METRICS_TOKEN = "scrape-me"
    client = Client()
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200 and b"hot_runs_queued" in ok.content


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_processes_report_readiness_metrics_and_structured_logs(
    environment, project, make_hot_server, tmp_path
):
    deploy_source(project)
    token = api_key_issue(environment=environment, name="observer").token
    queue = f"hot-obs-{uuid.uuid4().hex[:8]}"
    shared = {
        "HOT_CELERY_QUEUE": queue,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "HOT_LOG_FORMAT": "json",
        "HOT_WORKER_HEARTBEAT_SECONDS": "1",
    }
    (tmp_path / "metrics").mkdir()
    worker = WorkerProcess(queue, tmp_path / "worker.log", **shared)
    try:
        server = make_hot_server(**shared)
        wait_for(
            lambda: httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200,
            message="readiness once the worker reports",
        )
        auth = {"Authorization": f"Bearer {token}", "X-Request-Id": REQUEST_ID}
        published = httpx.post(
            f"{server.url}/v1/events",
            json={"event_type": "fail.start", "event_data": {}},
            headers=auth,
        )
        assert published.status_code == 201
        wait_for(
            lambda: Run.objects.filter(function="::app::main/failing", status="failed").exists(),
            message="the failing run",
        )
        wait_for(lambda: "failed after" in worker.output(), message="the run's log line")

        metrics = httpx.get(f"{server.url}/metrics").text
        assert re.search(
            r'hot_http_requests_total\{method="POST",route="v1/events",status="201"\} 1\.0',
            metrics,
        )
        assert 'hot_http_request_duration_seconds_bucket{le="0.5",method="POST"' in metrics
        assert re.search(r'hot_runs\{environment="default/testing",status="failed"\} 1\.0', metrics)
        assert "hot_run_duration_seconds_count 1.0" in metrics  # observed by the worker
        assert 'hot_runs_finished_total{status="failed"} 1.0' in metrics
        assert re.search(r"^hot_workers [1-9]", metrics, re.MULTILINE)  # this one (and others)
        assert "hot_sse_connections" in metrics

        access = [
            json.loads(line)
            for line in (tmp_path / "server-0.log").read_text().splitlines()
            if line.startswith("{") and '"hot.access"' in line
        ]
        post = next(line for line in access if line["path"] == "/v1/events")
        assert post["request_id"] == REQUEST_ID and post["status"] == 201
        assert post["route"] == "v1/events" and post["key_id"] == token.split("_")[1]
        assert post["environment_id"] == str(environment.pk)
        server_log = (tmp_path / "server-0.log").read_text()
        assert token.split("_")[2] not in server_log  # never the secret

        worker_lines = [
            json.loads(line) for line in worker.output().splitlines() if line.startswith("{")
        ]
        lifecycle = [line for line in worker_lines if line["logger"] == "runs.services"]
        assert {line["request_id"] for line in lifecycle} == {REQUEST_ID}  # carried over
        assert any(re.match(r"Run \S+ queued", line["message"]) for line in lifecycle)
        assert any(line["message"].endswith("nope") for line in lifecycle)  # failed + reason
        assert "No hostname was supplied" not in worker.output()
    finally:
        worker.stop()
