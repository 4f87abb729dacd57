"""JSON request bodies: bounded per view, and refused unless every value can be stored.

Most bodies are small (``HOT_MAX_JSON_BODY_BYTES``, 1 MiB by default); a view that takes large
payloads (publishing an event) raises its own bound with ``max_body_bytes``. A body over the
bound is refused with 413 from its declared length, or after reading one byte past the bound.

DRF's parser lets a deeply nested body exhaust Python's recursion (a 500) and accepts strings
PostgreSQL cannot store (``hotapi.jsonvalues``). Here both are a 400 naming the field, before
any view sees the data.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from hotapi.jsonvalues import find_unstorable


def body_limit(view) -> int:
    return getattr(view, "max_body_bytes", None) or settings.HOT_MAX_JSON_BODY_BYTES


def _bounded_body(stream, parser_context: dict) -> bytes:
    limit = body_limit(parser_context.get("view"))
    request = parser_context.get("request")
    declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    if declared > limit:
        raise RequestDataTooBig(f"Request body exceeds {limit} bytes")
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestDataTooBig(f"Request body exceeds {limit} bytes")
    return body


class HotJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        body = _bounded_body(stream, parser_context)
        max_depth = settings.HOT_MAX_JSON_DEPTH
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {max_depth} levels") from None
        problem = find_unstorable(data, max_depth=max_depth)
        if problem is not None:
            raise ValidationError({problem.path or "non_field_errors": [problem.message]})
        return data
