"""Django middleware that guards the API before any view runs.

- ``NulGuardMiddleware``: a NUL character in the path or query is a 400. No database stores it,
  and PostgreSQL refuses it even inside a lookup (which was a 500).
- ``NoStoreMiddleware``: API responses carry tenant data (run results, variables, events), so no
  cache along the way may keep them: ``Cache-Control: no-store`` unless a view said otherwise.
"""

from django.utils.cache import patch_cache_control

from .exceptions import json_error_response
from .middleware import is_api_path


def _carries_nul(request) -> bool:
    if "\x00" in request.path_info:
        return True
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


class NulGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path_info) and _carries_nul(request):
            return json_error_response(
                request, 400, "bad_request", "The path and query must not contain NUL (%00)"
            )
        return self.get_response(request)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request.path_info) and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response
