"""Configuration checks for ``manage.py doctor``: what is wrong, and how to fix it."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from secrets_app.crypto import keyring
from secrets_app.models import ContextVariable
from secrets_app.services import decrypt_variable

from .health import Check, run_check

WEAK_SECRET_LENGTH = 32


def check_debug() -> Check:
    if settings.DEBUG:
        return Check("debug", True, "DEBUG is on: right for a developer's machine only")
    return Check("debug", True, "DEBUG is off")


def check_secret_key() -> Check:
    if settings.HOT_SECRET_KEY_GENERATED and settings.DEBUG:
        return Check("secret key", True, "SECRET_KEY is generated into the data dir")
    if settings.HOT_SECRET_KEY_GENERATED:
        return Check(
            "secret key",
            False,
            "SECRET_KEY is generated into the data dir (each host would have its own, and "
            "API keys issued on one would fail on another)",
            "set SECRET_KEY (and HOT_API_KEY_PEPPER) to the same value on every host: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'",
        )
    if len(settings.SECRET_KEY) < WEAK_SECRET_LENGTH:
        return Check(
            "secret key", False, "SECRET_KEY is short", "use at least 50 random characters"
        )
    return Check("secret key", True, "SECRET_KEY is set")


def check_allowed_hosts() -> Check:
    if not settings.DEBUG and set(settings.ALLOWED_HOSTS) <= {
        "localhost",
        "127.0.0.1",
        "[::1]",
        "testserver",
    }:
        return Check(
            "allowed hosts",
            False,
            f"ALLOWED_HOSTS is {','.join(settings.ALLOWED_HOSTS)}: only local names",
            "set ALLOWED_HOSTS to the names clients use (e.g. api.example.com)",
        )
    return Check("allowed hosts", True, ", ".join(settings.ALLOWED_HOSTS))


def check_encryption_key() -> Check:
    fix = (
        "set HOT_ENCRYPTION_KEY to 64 hex characters "
        "(python -c 'import secrets; print(secrets.token_hex(32))'); keep older keys in "
        "HOT_ENCRYPTION_OLD_KEYS until rotate_encryption_key has run"
    )
    if not settings.HOT_ENCRYPTION_KEY:
        return Check("encryption key", False, "HOT_ENCRYPTION_KEY is not set", fix)
    try:
        primary, ring = keyring()
    except ImproperlyConfigured as exc:
        return Check("encryption key", False, str(exc), fix)
    unknown = sorted(
        set(ContextVariable.objects.exclude(key_id__in=list(ring)).values_list("key_id", flat=True))
    )
    if unknown:
        return Check(
            "encryption key",
            False,
            f"context values are sealed by keys that are not configured: {', '.join(unknown)}",
            "add those keys to HOT_ENCRYPTION_OLD_KEYS",
        )
    sample = ContextVariable.objects.order_by("-updated_at").first()
    if sample is not None:
        try:
            decrypt_variable(sample)
        except Exception as exc:
            return Check("encryption key", False, f"a stored value does not decrypt: {exc}", fix)
    generated = " (generated into the data dir)" if settings.HOT_ENCRYPTION_KEY_GENERATED else ""
    return Check("encryption key", True, f"key {primary}{generated} reads the stored values")


def check_migrations() -> Check:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return Check(
            "migrations",
            False,
            f"{len(pending)} migration(s) not applied",
            "run: python manage.py migrate",
        )
    return Check("migrations", True, "the database schema is up to date")


def diagnose() -> list[Check]:
    checks = [check_debug(), check_secret_key(), check_allowed_hosts()]
    database = run_check("database")
    checks.append(database)
    if database.ok:
        checks += [check_migrations(), check_encryption_key()]
    checks += [run_check("broker"), run_check("storage")]
    if database.ok:
        checks.append(run_check("worker"))
    return checks
