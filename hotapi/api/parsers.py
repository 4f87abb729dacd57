"""JSON request bodies, refused unless every value in them can be stored (``hotapi.jsonvalues``).

DRF's parser lets a deeply nested body exhaust Python's recursion (a 500) and accepts strings
PostgreSQL cannot store. Here both are a 400 naming the field, before any view sees the data.
"""

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from hotapi.jsonvalues import find_unstorable


class StorableJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        max_depth = settings.HOT_MAX_JSON_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {max_depth} levels") from None
        problem = find_unstorable(data, max_depth=max_depth)
        if problem is not None:
            raise ValidationError({problem.path or "non_field_errors": [problem.message]})
        return data
