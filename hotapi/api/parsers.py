"""JSON request bodies, bounded per view.

Most bodies are small (``HOT_MAX_JSON_BODY_BYTES``, 1 MiB by default); a view that takes large
payloads (publishing an event) raises its own bound with ``max_body_bytes``. A body over the
bound is refused with 413 from its declared length, or after reading one byte past the bound.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


def body_limit(view) -> int:
    return getattr(view, "max_body_bytes", None) or settings.HOT_MAX_JSON_BODY_BYTES


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = body_limit(parser_context.get("view"))
        request = parser_context.get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > limit:
            raise RequestDataTooBig(f"Request body exceeds {limit} bytes")
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestDataTooBig(f"Request body exceeds {limit} bytes")
        return super().parse(io.BytesIO(body), media_type, parser_context)
