"""The API's routes grouped by first segment (hotapi.api.urlgroups) resolve every path as the
plain list of includes does: the same view, arguments and route string."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.urls import URLResolver, include, path, re_path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

from hotapi.api.routes import _patterns
from hotapi.api.urlgroups import FirstSegment, grouped_by_first_segment
from hotapi.api.views import api_not_found
from hotapi.urls import api_v1, api_v1_routes


def view(request):
    return HttpResponse()


def resolver(patterns) -> URLResolver:
    return URLResolver(RoutePattern("v1/"), patterns)


def outcome(patterns, url: str):
    try:
        match = resolver(patterns).resolve(url)
    except Resolver404:
        return None
    return match.func, match.args, match.kwargs, match.url_name, match.route


SAMPLES = {
    "str": ["hello", "a.b-c"],
    "path": ["a/b/c.txt"],
    "uuid": ["0190a4b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b"],
}


def sample_paths() -> list[str]:
    """Every API route filled with sample values, each with a trailing slash and an extra
    segment, and near misses of its first segment."""
    paths = set()
    for route, _ in _patterns(api_v1_routes):
        if route.startswith("^"):
            continue  # the 404 fallback
        variants = [route]
        while any("<" in variant for variant in variants):
            filled = []
            for variant in variants:
                found = re.search(r"<(\w+):\w+>", variant)
                if found is None:
                    filled.append(variant)
                    continue
                for value in SAMPLES[found.group(1)]:
                    filled.append(variant[: found.start()] + value + variant[found.end() :])
            variants = filled
        for variant in variants:
            head = variant.split("/", 1)[0]
            paths.update(
                {
                    f"v1/{variant}",
                    f"v1/{variant}/",
                    f"v1/{variant}/extra",
                    f"v1/{head}x",
                    f"v1/{head}x/{variant}",
                    f"v1/x{variant}",
                }
            )
    return sorted(paths | {"v1/", "v1/nothing", "v1//projects", "v1/projects//x"})


def test_the_grouped_api_resolves_every_path_as_the_plain_list_does():
    paths = sample_paths()
    assert len(paths) > 300
    differences = [url for url in paths if outcome(api_v1, url) != outcome(api_v1_routes, url)]
    assert differences == []
    # The grouping is in effect: each of these went to a real view, not the 404 fallback.
    assert outcome(api_v1, "v1/projects/hello")[3] == "project-detail"
    assert outcome(api_v1, "v1/events/e1/runs")[3] == "event-runs"
    assert outcome(api_v1, "v1/projectsx")[0] is api_not_found


def test_each_first_segment_is_one_group_in_the_order_its_routes_came():
    groups = [pattern for pattern in api_v1 if isinstance(pattern.pattern, FirstSegment)]
    segments = [group.pattern.segment for group in groups]
    assert len(segments) == len(set(segments))
    assert segments[:3] == ["openapi.json", "docs", "redoc"]
    projects = next(group for group in groups if group.pattern.segment == "projects")
    routes = [str(pattern.pattern) for pattern in projects.url_patterns]
    # projects.urls, then secrets_app, builds and ingress: the order of the includes.
    assert routes[:3] == [
        "projects",
        "projects/<str:project_ref>",
        "projects/<str:project_ref>/context",
    ]
    assert routes[-1] == "projects/<str:project_ref>/mcp-tools"
    assert str(api_v1[-1].pattern) == "^.*$"  # the fallback stays last


def test_first_segment_matches_the_whole_segment_and_consumes_nothing():
    pattern = FirstSegment("runs")
    assert pattern.match("runs") == ("runs", (), {})
    assert pattern.match("runs/abc") == ("runs/abc", (), {})
    assert pattern.match("runsx") is None
    assert pattern.match("run") is None
    assert pattern.match("") is None
    assert str(pattern) == ""  # adds nothing to a route string


def test_routes_that_could_match_under_any_segment_stay_where_they_stood():
    patterns = grouped_by_first_segment(
        [
            path("a", view, name="a"),
            re_path(r"^(?P<anything>.+)/b$", view, name="regex"),
            path("<str:first>/c", view, name="converter"),
            path("a/<str:x>", view, name="a-x"),
            path("prefix", include([path("/tail", view, name="tail")])),
        ]
    )
    kinds = [
        pattern.pattern.segment
        if isinstance(pattern.pattern, FirstSegment)
        else getattr(pattern, "name", None)
        for pattern in patterns
    ]
    # "a/<str:x>" came after the expression: a group of its own after it. The prefix
    # "prefix" (no slash) also matches "prefixed/...": not grouped.
    assert kinds == ["a", "regex", "converter", "a", None]
    assert outcome(patterns, "v1/a/b")[3] == "regex"
    assert outcome(patterns, "v1/a/y")[3] == "a-x"
    assert outcome(patterns, "v1/prefix/tail")[3] == "tail"


def test_an_include_with_a_namespace_or_arguments_is_refused():
    namespaced = path("", include(([path("x", view)], "app"), namespace="ns"))
    with_arguments = path("", include([path("x", view)]), {"extra": 1})
    for pattern in (namespaced, with_arguments):
        with pytest.raises(ImproperlyConfigured, match="cannot be grouped"):
            grouped_by_first_segment([pattern])
