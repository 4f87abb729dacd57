"""Dead-code check: definitions nothing refers to (vulture), for `make lint` and the suite.

Django and DRF call much of our code by convention (admin options, view actions, serializer
``get_<field>`` methods, management commands, settings that name classes by string, hotlang's
``@lib`` registry), so vulture's report is kept to functions, classes, methods, properties and
imports, and the conventions are listed below; anything else it finds must be used or deleted.

    python -m tests.dead_code        # exits 1 and lists what is unused
"""

import sys
from pathlib import Path

import vulture

ROOT = Path(__file__).resolve().parent.parent
PATHS = [
    "hotapi",
    "environments",
    "projects",
    "secrets_app",
    "builds",
    "stores",
    "files",
    "tasks",
    "events",
    "runs",
    "hotlang",
    "hostio",
    "operations",
]
EXCLUDE = ["*/migrations/*"]
KINDS = {"function", "class", "method", "property", "import", "unreachable_code"}

# Called by frameworks by name, never by our code.
IGNORE_NAMES = [
    "*Config",  # AppConfig subclasses
    "Command",
    "add_arguments",
    "handle",
    "ready",
    "list",
    "create",
    "retrieve",
    "partial_update",
    "update",
    "destroy",
    "get",
    "post",
    "put",
    "delete",
    "get_*",  # serializer method fields, DRF and admin hooks
    "has_*_permission",
    "authenticate",
    "authenticate_header",
    "allow_request",
    "wait",
    "c_*",  # hotlang's compiler dispatches on the node class name
    "handler400",
    "handler404",
    "handler500",
    "determine_metadata",  # DRF metadata protocol
    "_put",  # kombu transport overrides
    "_queue_bind",
    "RedisTransport",  # named by string in kombu's transport aliases (hotapi/broker.py)
    "readable",  # io.RawIOBase protocol
    "readinto",
    "handle_raw_input",  # Django upload handler protocol
    "to_representation",
    "to_internal_value",
    "validate_*",
    "clean_*",  # Django form field cleaning
    "store_backend",  # runtime hooks the I/O modules look up by name (hotlang/hostcall.py)
    "file_store",
    "task_service",
    "restore",  # a method of the task service hotlang calls by name (hotlang/stdlib/task.py)
    "seekable",  # io protocol (storages ask streams whether they can seek)
    "collect",  # prometheus_client collector protocol
    "pre_request",  # gunicorn server hook (hotapi/gunicorn_conf.py)
    "post_worker_init",  # gunicorn server hook (hotapi/gunicorn_conf.py)
    "on_starting",  # gunicorn server hook (hotapi/gunicorn_conf.py)
    "response_add",  # admin hooks
    "delete_model",
    "delete_queryset",
    "on_header",  # httptools parser callbacks (hotapi/forwarding.py)
    "on_headers_complete",
    "on_body",
    "on_message_complete",
]
IGNORE_DECORATORS = [
    "@lib",  # hotlang's standard library registry
    "@admin.register",
    "@admin.action",
    "@admin.display",
    "@receiver",
    "@checks.register",
    "@shared_task",
    "@app.task",
    "@extend_schema",
    "@extend_schema_field",
    "@*.setter",
    "@*.connect",  # Celery and Django signal receivers
    "@confirmed_action",  # admin actions (hotapi.admin)
]
# Named by string in settings.py (middleware, DRF classes, hooks) or by Celery beat.
USED_BY_SETTINGS = [
    "RequestIdMiddleware",
    "UnauthenticatedThrottleMiddleware",
    "NulGuardMiddleware",
    "NoStoreMiddleware",
    "EnvelopeMetadata",
    "HotJSONParser",
    "HotAutoSchema",
    "AccessLogMiddleware",
    "TrailingSlashMiddleware",
    "RateLimitHeadersMiddleware",
    "RequestIdLogFilter",
    "ApiKeyAuthentication",
    "ApiKeyAuthenticationScheme",
    "get_security_definition",
    "DeclaredPermissions",
    "has_permission",
    "EnvironmentRateThrottle",
    "HotPagination",
    "ContentNegotiation",
    "envelope_exception_handler",
    "only_v1_endpoints",
    "envelope_postprocessing_hook",
    "HotlangRuntime",
    "_check_configuration",
    "application",
    "HotAdminSite",
]


def unused_code() -> list[str]:
    scavenger = vulture.Vulture(
        ignore_names=IGNORE_NAMES + USED_BY_SETTINGS, ignore_decorators=IGNORE_DECORATORS
    )
    scavenger.scavenge([str(ROOT / path) for path in PATHS], exclude=EXCLUDE)
    return [
        item.get_report(add_size=False).replace(str(ROOT) + "/", "")
        for item in scavenger.get_unused_code(min_confidence=60)
        if item.typ in KINDS
    ]


if __name__ == "__main__":
    found = unused_code()
    print("\n".join(found) if found else "No dead code found.")
    sys.exit(1 if found else 0)
