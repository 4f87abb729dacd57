"""The public ingress in the OpenAPI document: ``/webhook/…`` and ``/mcp/…`` are plain Django
views (they speak the caller's protocol), so their operations are described here and added by a
postprocessing hook (``SPECTACULAR_SETTINGS``), after the ``/v1`` envelope hook."""

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


SCOPE = [
    _param("org", "The organization's name."),
    _param("env", "The environment's name."),
    _param("service", "The service declared in the function's meta."),
]
WEBHOOK_PARAMS = [
    *SCOPE,
    _param("path", 'The endpoint\'s path (one or more segments; absent for `path: "/"`).'),
    _param("token", "The endpoint's secret token (from `GET /v1/projects/{p}/webhooks`)."),
]
WEBHOOK_RESPONSES = {
    "2XX": {
        "description": "The function's response: an `HttpResponse`'s status, headers and JSON "
        "body, or any other result as a 200 JSON body. `X-Hot-Run-Id` names the run.",
        "content": {"application/json": {"schema": {}}},
    },
    "401": _error('`auth: "required"` and no valid Bearer token.'),
    "403": _error("The token lacks `webhook:<service>` execute, or is another environment's."),
    "404": _error("No such environment or endpoint, or a wrong token."),
    "405": _error("The endpoint takes another method (see `Allow`)."),
    "413": _error("The body exceeds `HOT_WEBHOOK_MAX_BODY_BYTES`."),
    "429": _error(
        "The environment's request rate limit (`Retry-After`), or too many of its calls "
        "waiting at once (`too_many_calls_in_flight`)."
    ),
    "500": _error("The function failed (`webhook_function_failed`, with `run_id`)."),
    "504": _error("The function did not finish in time (`webhook_timeout`); its run is cancelled."),
}
JSON_RPC = {
    "type": "object",
    "required": ["jsonrpc"],
    "properties": {
        "jsonrpc": {"type": "string", "enum": ["2.0"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "method": {"type": "string"},
        "params": {"type": "object"},
        "result": {"type": "object"},
        "error": {"type": "object"},
    },
}


def _webhook_operation(method: str) -> dict:
    return {
        "operationId": f"webhook_{method}",
        "tags": ["webhooks"],
        "summary": "Call a webhook",
        "description": "Runs the deployed function declared with `meta {webhook: ...}` (any of "
        "GET, POST, PUT, PATCH, DELETE, as declared) as a run and answers with its result. "
        "See docs/api.md, Webhooks.",
        "security": [{"ApiKeyAuth": []}, {}],
        "parameters": WEBHOOK_PARAMS,
        "responses": WEBHOOK_RESPONSES,
    }


def _mcp_paths() -> dict:
    rpc = {"content": {"application/json": {"schema": JSON_RPC}}}
    post = {
        "operationId": "mcp_post",
        "tags": ["mcp"],
        "summary": "MCP over Streamable HTTP",
        "description": "One JSON-RPC message or a batch: `initialize`, `ping`, `tools/list`, "
        "`tools/call`. See docs/api.md, MCP.",
        "security": [{"ApiKeyAuth": []}, {}],
        "parameters": SCOPE,
        "requestBody": {"required": True, **rpc},
        "responses": {
            "200": {"description": "The JSON-RPC response (or error).", **rpc},
            "202": {"description": "A notification: nothing to answer."},
            "401": {"description": "A tool needs a credential (JSON-RPC -32001).", **rpc},
            "403": {"description": "The credential lacks `mcp:<service>` execute.", **rpc},
            "404": _error("No such organization or environment."),
            "413": _error("The body exceeds `HOT_MAX_JSON_BODY_BYTES`."),
            "429": {"description": "The environment's request rate limit.", **rpc},
        },
    }
    get = {
        "operationId": "mcp_sse",
        "tags": ["mcp"],
        "summary": "MCP over HTTP+SSE (legacy): open a session",
        "description": "An SSE stream: `endpoint` first (where to POST messages), then each "
        "answer as a `message` event.",
        "security": [{"ApiKeyAuth": []}, {}],
        "parameters": SCOPE,
        "responses": {
            "200": {
                "description": "The session's events.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "404": _error("No such organization or environment."),
        },
    }
    messages = {
        "operationId": "mcp_sse_message",
        "tags": ["mcp"],
        "summary": "MCP over HTTP+SSE (legacy): send a message",
        "security": [{"ApiKeyAuth": []}, {}],
        "parameters": [
            *SCOPE,
            {"name": "sessionId", "in": "query", "required": True, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": True, **rpc},
        "responses": {
            "202": {"description": "Accepted; the answer arrives on the session's stream."},
            "404": {
                "description": "No such organization or environment (the error envelope), or "
                "an unknown or expired session (a JSON-RPC error).",
                "content": {"application/json": {"schema": {"oneOf": [ERROR, JSON_RPC]}}},
            },
            "413": _error("The body exceeds `HOT_MAX_JSON_BODY_BYTES`."),
            "429": {"description": "The environment's request rate limit.", **rpc},
        },
    }
    return {
        "/mcp/{org}/{env}/{service}": {"post": post, "get": get},
        "/mcp/{org}/{env}/{service}/messages": {"post": messages},
    }


def ingress_paths_hook(result, generator, request, public):
    operations = {m: _webhook_operation(m) for m in ("get", "post", "put", "patch", "delete")}
    result.setdefault("paths", {})["/webhook/{org}/{env}/{service}/{path}/{token}"] = operations
    result["paths"].update(_mcp_paths())
    return result
