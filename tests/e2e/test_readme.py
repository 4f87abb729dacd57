"""The README's quick start runs as written: every ``bash`` block (in order, as one script),
then every ``python`` block, against a live server and worker.

``sh`` blocks are shown but not run (installing, starting servers, the production recipe). The
only change made to the blocks is the address: the live server listens on a free port instead
of 4681. ``HOT_API_KEY`` is set as the quick start tells the reader to.
"""

import re
import subprocess
import sys

import pytest

from environments.services import api_key_issue
from runs.models import Run
from tests.live import BASE_DIR, require_tool

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

README = BASE_DIR / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
DOCUMENTED_URL = "http://127.0.0.1:4681"


def readme_blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def test_the_readme_has_runnable_blocks():
    assert len(readme_blocks("bash")) >= 4
    assert readme_blocks("python")
    assert all(block.strip() for block in readme_blocks("bash") + readme_blocks("python"))


def test_readme_examples_run_as_written(environment, hot_server, celery_worker_process, tmp_path):
    require_tool("jq", "the jq package")
    require_tool("curl", "the curl package")
    token = api_key_issue(environment=environment, name="readme").token
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOT_API_KEY": token,
        "HOME": str(tmp_path),
    }
    bundle = BASE_DIR / "hello.hot.zip"
    script = "set -euo pipefail\n" + "\n".join(readme_blocks("bash"))
    try:
        shell = subprocess.run(
            ["bash", "-c", script.replace(DOCUMENTED_URL, hot_server.url)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        bundle.unlink(missing_ok=True)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    output = shell.stdout
    assert '"status":"ok"' in output.replace(" ", "")
    assert re.search(r"build [0-9a-f-]{36} is ready", output)
    assert '"greeting": "Hello, Ada!"' in output  # the run's result
    assert "run:update" in output and "user.greeted" in output

    program = "\n".join(readme_blocks("python")).replace(DOCUMENTED_URL, hot_server.url)
    python = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert python.returncode == 0, python.stdout + python.stderr
    lines = python.stdout.splitlines()
    assert lines[:2] == ["event:published", "run:start"]
    assert "run:stop" in lines
    assert "{'greeting': 'Hello, Alan!'}" in lines
    assert "5" in lines
    assert any("hello-sdk" in line for line in lines)
    # The sessions example: the session calls a function, is refused projects, is revoked.
    assert lines.count("5") == 2
    assert any(line.startswith("403 ") for line in lines)
    assert "hooks.example.com" in lines[-1]
    assert Run.objects.filter(function="::hello::main/log-greeting", status="succeeded").exists()
