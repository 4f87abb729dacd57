"""The API's routes grouped by their first path segment, so resolving a request tries only the
routes that can match it.

Django tries a URL list in order, and every ``include`` that does not match raises and catches
``Resolver404`` and copies the list of routes it tried: a request under ``/v1/`` paid that for
each app's include before its own (234–553 k instructions to resolve an API path, against
171–205 k grouped; ``bench/url_resolve.py``, D81). Here the apps' routes are regrouped by
their first segment (``projects``, ``runs``, ...), keeping their order inside each group, and a
group is entered only when the path starts with its segment. A path can only match a route that
begins with the same segment, so every path resolves to the same view as before; the route
strings that logs, metrics and the schema read are unchanged, because a group's pattern adds
nothing to them.
"""

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RoutePattern


class FirstSegment(RoutePattern):
    """Matches a path whose first segment is ``segment`` and consumes nothing of it: to the
    resolver, the schema and ``reverse`` it is ``path("", include(...))``."""

    def __init__(self, segment: str):
        super().__init__("", is_endpoint=False)
        self.segment = segment
        self._with_slash = segment + "/"

    def match(self, path):
        if path == self.segment or path.startswith(self._with_slash):
            return path, (), {}
        return None


class SegmentGroup(URLResolver):
    """The routes of one first segment. A path under another segment is not a match here, as
    a route that does not match it: None, not ``Resolver404``, which Django's resolver raises,
    catches and records for each include it passes (the list of routes tried, kept for the
    debug 404 page, then leaves out the groups a path could not be in)."""

    def resolve(self, path):
        if self.pattern.match(path) is None:
            return None
        return super().resolve(path)


def grouped_by_first_segment(patterns: list) -> list:
    """``patterns`` with their plain includes flattened and their routes grouped by first
    segment, each group where its first route was. A route that may match under any segment
    (a regular expression, a converter first) stays where it stood, and routes after it go
    into new groups, so it is still tried before them."""
    groups: dict[str, list] = {}
    result: list = []
    for pattern in _flattened(patterns):
        segment = _first_literal_segment(pattern)
        if segment is None:
            result.append(pattern)
            groups = {}
            continue
        if segment not in groups:
            groups[segment] = []
            result.append(SegmentGroup(FirstSegment(segment), groups[segment]))
        groups[segment].append(pattern)
    return result


def _flattened(patterns: list):
    for pattern in patterns:
        if isinstance(pattern, URLResolver) and _is_plain_include(pattern):
            yield from _flattened(pattern.url_patterns)
        else:
            yield pattern


def _is_plain_include(resolver: URLResolver) -> bool:
    """``path("", include("app.urls"))``: no prefix, namespace or extra arguments, so its
    routes can stand in the outer list unchanged."""
    if not isinstance(resolver.pattern, RoutePattern) or str(resolver.pattern):
        return False
    if resolver.namespace or resolver.app_name or resolver.default_kwargs:
        raise ImproperlyConfigured(
            f"{resolver!r}: a namespaced include or one with arguments cannot be grouped"
        )
    return True


def _first_literal_segment(pattern) -> str | None:
    """The route's first segment if it is plain text (``projects`` of
    ``projects/<str:project_ref>``), else None."""
    if not isinstance(pattern, URLPattern | URLResolver):
        return None
    if type(pattern.pattern) is not RoutePattern:
        return None  # a regular expression: it could match any segment
    route = str(pattern.pattern)
    if isinstance(pattern, URLResolver) and "/" not in route:
        return None  # a prefix such as "projects" also matches "projectsx/..."
    segment = route.split("/", 1)[0]
    return segment if segment and "<" not in segment else None
