"""Content negotiation: DRF's, with the common case answered without parsing ``Accept``."""

from rest_framework.negotiation import DefaultContentNegotiation

JSON = "application/json"
# No Accept header, any type, or exactly JSON: what nearly every API client sends.
_PLAIN_ACCEPTS = frozenset({"*/*", JSON})


class ContentNegotiation(DefaultContentNegotiation):
    """DRF picks the first renderer matching the most specific type the client accepts. When
    the view renders JSON first and the client sends no ``Accept``, ``*/*`` or exactly
    ``application/json``, that is always the first renderer with ``application/json``: it is
    returned here without parsing the header into media types on every request. Any other
    header (an empty one, parameters, a list) takes DRF's path, 406 included."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if (
            (accept is None or accept in _PLAIN_ACCEPTS)
            and not format_suffix
            and not self.settings.URL_FORMAT_OVERRIDE
            and renderers
            and renderers[0].media_type == JSON
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
