"""One-off preparation of a bench database, run as ``python -m bench._django_setup`` in a
child process (the settings are read from the environment once, per process).

Migrates, issues an API key for the ``bench`` environment (``createapikey``), raises that
environment's hourly request quota so the throttle still runs but never answers 429, creates a
project, and optionally writes the API's JSON body for the project and counts the SQL queries
of one authenticated request. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

QUOTA = 2_000_000_000  # PositiveIntegerField; > 0 so the throttle's counter is still exercised


def issue_key(name: str = "bench") -> str:
    """A new API key for the ``bench`` environment (created if missing). Django must be set up."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("createapikey", env="bench", name=name, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def prepare_bench_environment(**limits):
    """Migrate, issue a key for the ``bench`` environment and raise its limits so they do not
    interfere. Returns ``(token, environment)``. Django must be set up."""
    from django.core.management import call_command

    from environments.models import Environment

    call_command("migrate", verbosity=0, interactive=False)
    token = issue_key()
    Environment.objects.filter(name="bench").update(
        requests_per_hour=QUOTA, requests_per_second=0, **limits
    )
    return token, Environment.objects.get(name="bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", default="bench-project")
    parser.add_argument("--bare-body", help="write the API's JSON body for the project here")
    parser.add_argument("--count-queries", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token, _ = prepare_bench_environment()

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = client.post("/v1/projects", {"name": args.project}, content_type="application/json")
    if created.status_code != 201:
        sys.exit(f"creating the project failed: {created.status_code} {created.content[:500]!r}")
    path = f"/v1/projects/{args.project}"
    result: dict = {"token": token, "project": args.project, "vendor": connection.vendor}

    if args.count_queries:
        # A fresh key: its first use also refreshes last_used_at (at most once a minute).
        client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_key('count')}")
        runs = []
        for label in ("first use of a key (refreshes last_used_at)", "steady state"):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            assert response.status_code == 200, response.content
            runs.append(
                {
                    "label": label,
                    "count": len(ctx.captured_queries),
                    "sql": [q["sql"] for q in ctx.captured_queries],
                }
            )
        result["queries"] = runs
        auth_sql = [sql for sql in runs[-1]["sql"] if sql.startswith("SELECT") and "apikey" in sql]
        if auth_sql:
            explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
            with connection.cursor() as cursor:
                cursor.execute(explain + auth_sql[0])
                result["auth_sql"] = auth_sql[0]
                result["auth_plan"] = [" ".join(map(str, row)) for row in cursor.fetchall()]

    if args.bare_body:
        response = client.get(path)
        assert response.status_code == 200, response.content
        with open(args.bare_body, "w", encoding="utf-8") as handle:
            json.dump(response.json(), handle)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
