"""Probes and metrics: plain responses, no API key, no envelope, no rate limit.

They belong on the internal network (load balancer, orchestrator, Prometheus); set
``HOT_METRICS_TOKEN`` to require ``Authorization: Bearer <token>`` on ``/metrics``.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import readiness
from .metrics import scrape


@never_cache
@require_GET
def healthz(request):
    """The process is up and answering (no dependency is checked)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: 200 when every dependency answers, else 503 naming what failed."""
    checks = readiness()
    failing = [check.name for check in checks if not check.ok]
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {check.name: check.as_json() for check in checks},
    }
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_GET
def metrics(request):
    token = settings.HOT_METRICS_TOKEN
    if token:
        sent = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("metrics need the bearer token\n", status=401)
    body, content_type = scrape()
    return HttpResponse(body, content_type=content_type)
