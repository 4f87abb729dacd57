"""Every authenticated API route, read from the URL resolver, with the permission rule its view
declares for each method. ``manage.py check`` refuses a route without one (``hot.E001``), and
the permission tests walk this list, so a new route is covered without anyone listing it."""

from dataclasses import dataclass

from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .permissions import DeclaredPermissions, Rule, rule_for

API_PREFIX = "v1/"
PUBLIC_DOCS_VIEWS = SpectacularAPIView | SpectacularSwaggerView | SpectacularRedocView
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class ApiRoute:
    route: str  # e.g. "v1/projects/<str:project_ref>"
    name: str | None
    view_class: type
    method: str  # "GET", "POST", ...
    rule: Rule | None


class _Probe:
    """Just enough of a request for ``rule_for``."""

    def __init__(self, method: str):
        self.method = method


def _patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _is_guarded(view_class) -> bool:
    return any(
        isinstance(permission, type) and issubclass(permission, DeclaredPermissions)
        for permission in getattr(view_class, "permission_classes", ())
    )


def _method_rules(callback):
    view_class = callback.cls
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a viewset: one action per method
        for method, action in actions.items():
            if method in _METHODS:
                view = view_class(action_map=actions, action=action)
                yield method, rule_for(view, _Probe(method.upper()))[1]
        return
    for method in _METHODS:
        if hasattr(view_class, method):
            yield method, rule_for(view_class(), _Probe(method.upper()))[1]


def api_routes() -> list[ApiRoute]:
    routes = []
    for route, pattern in _patterns(get_resolver().url_patterns):
        callback = pattern.callback
        if not route.startswith(API_PREFIX) or not hasattr(callback, "cls"):
            continue  # other prefixes are aliases; plain Django views are the 404 fallbacks
        if issubclass(
            callback.cls, SpectacularAPIView | SpectacularSwaggerView | SpectacularRedocView
        ):
            continue  # public: the OpenAPI document and its viewer
        guarded = _is_guarded(callback.cls)  # a view that replaced the check has no rule
        for method, rule in _method_rules(callback):
            routes.append(
                ApiRoute(
                    route, pattern.name, callback.cls, method.upper(), rule if guarded else None
                )
            )
    return routes


@checks.register(checks.Tags.security)
def check_every_route_declares_permissions(app_configs, **kwargs):
    return [
        checks.Error(
            f"{route.method} /{route.route} ({route.view_class.__name__}) declares no permission",
            hint="Add the action to the view's permission_rules (hotapi.api.permissions).",
            id="hot.E001",
        )
        for route in api_routes()
        if route.rule is None
    ]
