"""`manage.py check --deploy` is clean in the documented production configuration
(docs/production.env), and the settings it relies on come from the environment (reliability
review D2, D13: before, four warnings remained and no setting could fix them)."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.live import BASE_DIR

pytestmark = pytest.mark.slow

GENERATED = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "HOT_API_KEY_PEPPER": lambda: secrets.token_urlsafe(50),
    "HOT_ENCRYPTION_KEY": lambda: secrets.token_hex(32),
}


def production_env() -> dict[str, str]:
    values = {}
    for line in (BASE_DIR / "docs" / "production.env").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name] = value or GENERATED[name]()
    return values


def _check_deploy(tmp_path, settings_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "HOT_API_KEY_PEPPER", "HOT_ENCRYPTION_KEY"}
        and not key.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(HOT_DATA_DIR=str(tmp_path / "data"), **settings_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_the_documented_production_configuration(tmp_path):
    result = _check_deploy(tmp_path, production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_is_missing_without_it(tmp_path):
    result = _check_deploy(tmp_path, {"DEBUG": "0"})
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in result.stdout + result.stderr
