"""The layering of docs/architecture.md and the code-health checks, as tests that fail when the
code drifts: import contracts (import-linter, declared in pyproject.toml) and dead code."""

import subprocess
import sys
from pathlib import Path

from tests.dead_code import ROOT, unused_code


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_dead_code():
    assert unused_code() == []
