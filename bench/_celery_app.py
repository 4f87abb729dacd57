"""The service's Celery app plus one empty task, for the run-latency baseline.

Workers for ``bench/run_latency.py`` start with ``celery -A bench._celery_app worker``: the same
app, configuration and tasks as ``celery -A hotapi worker``, plus ``bench.empty``. Its result
goes to ``HOT_BENCH_RESULT_BACKEND`` (Redis), set only for these benchmark processes; the
service's own tasks keep ignoring results.
"""

import os

from hotapi.celery import app

if os.environ.get("HOT_BENCH_RESULT_BACKEND"):
    app.conf.result_backend = os.environ["HOT_BENCH_RESULT_BACKEND"]


@app.task(name="bench.empty", ignore_result=False, acks_late=True)
def empty() -> None:
    return None
