"""The service's URLconf with the API's routes as the plain list of includes, ungrouped: the
baseline of ``bench/url_resolve.py``."""

from django.urls import URLResolver

from hotapi import urls as service


def _plain(pattern):
    if isinstance(pattern, URLResolver) and pattern.urlconf_name is service.api_v1:
        return URLResolver(pattern.pattern, service.api_v1_routes)
    return pattern


urlpatterns = [_plain(pattern) for pattern in service.urlpatterns]
