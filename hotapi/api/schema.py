"""drf-spectacular customisation: the schema says exactly what the server enforces.

- drf-spectacular does not introspect renderers, so each JSON 2xx response schema is wrapped
  here as ``{data, meta}`` (lists, already ``{results, pagination}`` from the paginator, become
  ``{data, pagination, meta}``).
- Every operation documents the error envelope for each status it can answer: the ones any
  request can get (400, 401, 404, 429, 500), 413 for every request with a body (the body
  limits), 415 where a body is parsed, and those a view declares with ``error_responses``.
- Strict input serializers (unknown fields refused) are ``additionalProperties: false``.
- Operation descriptions are the ones views declare, never their docstrings.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .pagination import PAGINATION_SCHEMA
from .serializers import StrictSerializer

META = {
    "type": "object",
    "required": ["request_id", "timestamp"],
    "properties": {
        "request_id": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "request_id"],
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string"},
                "request_id": {"type": "string"},
                "details": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "retry_after": {"type": "integer"},
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid request (bad_request)",
    "401": "Missing or invalid API key (unauthorized)",
    "403": "Not allowed, whoever asks (forbidden)",
    "404": "Unknown resource (not_found)",
    "409": "Conflicts with the current state (conflict)",
    "413": "Body over the route's limit, or storage quota exceeded (payload_too_large, "
    "storage_quota_exceeded)",
    "415": "Body in an unsupported media type (unsupported_media_type)",
    "429": "Too many requests, or too many open streams (rate_limit_exceeded, too_many_streams)",
    "500": "Server error (internal_server_error)",
}
ANY_REQUEST_ERRORS = ("400", "401", "404", "429", "500")
BODY_METHODS = {"post", "put", "patch"}
UNWRAPPED_OPERATIONS = {"status"}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def error_responses(*codes: int) -> dict:
    """``extend_schema(responses=...)`` entries for the errors a view answers beyond those every
    request can get; the envelope is filled in by the post-processing hook."""
    return {code: OpenApiResponse(description=ERROR_DESCRIPTIONS[str(code)]) for code in codes}


class HotAutoSchema(AutoSchema):
    def get_description(self):
        """Docstrings are written for developers (and often describe a base class); an operation
        is described only where a view says so with ``extend_schema(description=...)``."""
        return ""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        schema.pop("description", None)  # the serializer's docstring, written for developers
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema


def _wrap(schema: dict, components: dict) -> dict:
    target = schema
    if "$ref" in schema:  # paginated lists arrive as a component, e.g. PaginatedProjectList
        target = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    props = target.get("properties", {})
    if target.get("type") == "object" and set(props) == {"results", "pagination"}:
        return {
            "type": "object",
            "required": ["data", "pagination", "meta"],
            "properties": {
                "data": props["results"],
                "pagination": {"$ref": "#/components/schemas/Pagination"},
                "meta": {"$ref": "#/components/schemas/Meta"},
            },
        }
    return {
        "type": "object",
        "required": ["data", "meta"],
        "properties": {"data": schema, "meta": {"$ref": "#/components/schemas/Meta"}},
    }


def only_v1_endpoints(endpoints):
    """Document each operation once: ``/api/v1`` mirrors ``/v1``, ``/`` mirrors ``/status``,
    and the optional trailing slash the routers accept is not part of the documented path."""
    return [
        (path.rstrip("/"), *rest)
        for path, *rest in endpoints
        if path.startswith("/v1/") or path == "/status"
    ]


def _error_codes(method: str, operation: dict) -> list[str]:
    codes = list(ANY_REQUEST_ERRORS)
    if method in BODY_METHODS:
        codes.append("413")  # the body limits apply to every request that may carry a body
        if operation.get("requestBody"):
            codes.append("415")
    codes += [code for code in operation["responses"] if not code.startswith(("2", "3"))]
    return sorted(set(codes))


def _document_errors(method: str, operation: dict) -> None:
    responses = operation["responses"]
    for code in _error_codes(method, operation):
        response = responses.setdefault(code, {})
        response.setdefault("description", ERROR_DESCRIPTIONS.get(code, "Error"))
        response["content"] = ERROR_CONTENT
    operation["responses"] = dict(sorted(responses.items()))


ANY_OR_NULL = [{}, {"type": "null"}]


def _any_value(node):
    """drf-spectacular writes a nullable JSON field as ``oneOf: [{}, {type: null}]``, which no
    value can satisfy (null matches both); ``{}`` alone already allows any value."""
    if isinstance(node, dict):
        if node.get("oneOf") == ANY_OR_NULL:
            node.pop("oneOf")
        for value in node.values():
            _any_value(value)
    elif isinstance(node, list):
        for value in node:
            _any_value(value)


def envelope_postprocessing_hook(result, generator, request, public):
    _any_value(result)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Meta"] = META
    schemas["Pagination"] = PAGINATION_SCHEMA
    schemas["Error"] = ERROR
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("operationId") in UNWRAPPED_OPERATIONS:
                continue
            for code, response in operation["responses"].items():
                if not code.startswith("2"):
                    continue
                media = response.get("content", {}).get("application/json")
                if media and "schema" in media:
                    media["schema"] = _wrap(media["schema"], schemas)
            _document_errors(method, operation)
    return result
