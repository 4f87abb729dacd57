"""The service's URLs plus a bare Django view serving a fixed JSON body (bench only).

``GET /bench/bare/projects/<name>`` answers with a plain ``JsonResponse`` of the body stored
in the file named by ``HOT_BENCH_BARE_BODY``: the exact envelope the API returned once for
that project. No DRF, no authentication, no throttle, no database; same middleware stack,
same server process as ``GET /v1/projects/<name>``.
"""

import json
import os
from functools import cache

from django.http import JsonResponse
from django.urls import include, path

BARE_BODY_ENV = "HOT_BENCH_BARE_BODY"


@cache
def bare_body() -> dict:
    with open(os.environ[BARE_BODY_ENV], encoding="utf-8") as handle:
        return json.load(handle)


def bare_project(request, name: str):
    # Compact and unescaped, as DRF's JSONRenderer writes it: the same bytes on the wire.
    params = {"separators": (",", ":"), "ensure_ascii": False}
    return JsonResponse(bare_body(), json_dumps_params=params)


urlpatterns = [
    path("bench/bare/projects/<str:name>", bare_project, name="bench-bare-project"),
    path("", include("hotapi.urls")),
]

handler404 = "hotapi.api.views.handler404"
handler500 = "hotapi.api.views.handler500"
