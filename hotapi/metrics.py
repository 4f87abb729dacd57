"""Prometheus metrics observed in the serving processes (web and workers).

Only what a process sees happen is recorded here: requests, open streams, finished runs,
deploys. State that lives in the database (runs per status, queued runs, builds) is read when
``/metrics`` is scraped (``operations.metrics``), so it is exact whichever process changed it.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``runhot`` sets it), prometheus_client writes every
process's values to files in that folder and ``/metrics`` adds them up; without it each process
reports only itself. No Django import here: the API core and the apps may all record metrics.
"""

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
RUN_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

http_requests = Counter(
    "hot_http_requests",
    "HTTP requests answered, by method, route pattern and status code.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "hot_http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte for streams), by method and route.",
    ["method", "route"],
    buckets=REQUEST_LATENCY_BUCKETS,
)
sse_connections = Gauge(
    "hot_sse_connections",
    "Server-sent event streams open now.",
    multiprocess_mode="livesum",
)
runs_finished = Counter(
    "hot_runs_finished",
    "Runs that reached a final status, by status.",
    ["status"],
)
run_duration = Histogram(
    "hot_run_duration_seconds",
    "Run execution time from start to final status.",
    buckets=RUN_DURATION_BUCKETS,
)
deploys = Counter(
    "hot_deploys",
    "Deploy jobs, by outcome (deployed, failed, superseded, missing).",
    ["outcome"],
)
