"""drf-spectacular post-processing: show the real envelopes and error bodies in the schema.

drf-spectacular does not introspect renderers, so each JSON 2xx response schema is wrapped here
as ``{data, meta}`` (lists, already ``{results, pagination}`` from the paginator, become
``{data, pagination, meta}``) and every operation documents the error envelope.
"""

from .pagination import PAGINATION_SCHEMA

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
ERROR_RESPONSES = {
    "400": "Invalid request (bad_request)",
    "401": "Missing or invalid API key (unauthorized)",
    "404": "Unknown resource (not_found)",
    "429": "Too many requests (rate_limit_exceeded)",
    "500": "Server error (internal_server_error)",
}
UNWRAPPED_OPERATIONS = {"status"}


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


def envelope_postprocessing_hook(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Meta"] = META
    schemas["Pagination"] = PAGINATION_SCHEMA
    schemas["Error"] = ERROR
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
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
            for code, description in ERROR_RESPONSES.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
