"""Limit/offset pagination with the seed's ``pagination`` block and strict parameter checks.

``limit`` defaults to 20 and is at most 500: a larger value is clamped to 500, as the reference
server does and the official SDK expects; the ``pagination`` block reports the limit applied and
``has_more``, so a client asking for more still learns it did not get everything. ``limit=0``
returns no rows but still reports ``total``. ``offset`` is at most 10^9: beyond, databases
overflow their integers. Both are plain ASCII digits; anything else, an empty value included,
is refused with 400 (the schema says integer).
"""

import re

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000
_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 18  # beyond, the value is larger than any maximum here (and than 64 bits)


def query_int(request, name: str, default: int, maximum: int, *, clamp: bool = False) -> int:
    """The query parameter ``name`` as an integer from 0, or ``default`` when absent; above
    ``maximum`` it is clamped (``clamp``) or refused. Anything but digits is a 400 naming the
    parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    if not _DIGITS.fullmatch(raw):
        raise ValidationError({name: [f"must be a non-negative integer, got {shown!r}"]})
    value = int(raw) if len(raw) <= _MAX_DIGITS else maximum + 1
    if value > maximum:
        if clamp:
            return maximum
        raise ValidationError({name: [f"must be at most {maximum}, got {shown}"]})
    return value


class HotPagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        if isinstance(queryset, QuerySet) and not queryset.ordered:
            raise ImproperlyConfigured(f"{type(view).__name__} paginates an unordered queryset")
        self.limit = query_int(request, "limit", DEFAULT_LIMIT, MAX_LIMIT, clamp=True)
        self.offset = query_int(request, "offset", 0, MAX_OFFSET)
        self.count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        if self.limit == 0:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data):
        return Response({"results": data, "pagination": self.pagination_block()})

    def pagination_block(self) -> dict:
        return {
            "total": self.count,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.offset + self.limit < self.count,
        }

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "pagination"],
            "properties": {"results": schema, "pagination": PAGINATION_SCHEMA},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Rows per page (default {DEFAULT_LIMIT}; values above "
                f"{MAX_LIMIT} are clamped to {MAX_LIMIT}).",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": f"Rows to skip (default 0, at most {MAX_OFFSET}).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


PAGINATION_SCHEMA = {
    "type": "object",
    "required": ["total", "limit", "offset", "has_more"],
    "properties": {
        "total": {"type": "integer"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
        "has_more": {"type": "boolean"},
    },
}


def paginate(view, queryset, serializer_class, **serializer_kwargs):
    """Paginate ``queryset`` with the view's paginator and return the enveloped response."""
    page = view.paginate_queryset(queryset)
    data = serializer_class(page, many=True, **serializer_kwargs).data
    return view.get_paginated_response(data)
