"""MCP (Model Context Protocol) over HTTP for the tools of one service: JSON-RPC 2.0 with the
``initialize`` handshake (protocol revisions 2024-11-05 to 2025-11-25), ``ping``,
``tools/list`` and ``tools/call``.

``handle`` answers one JSON-RPC message; the views carry it over Streamable HTTP (a POST
answered with ``application/json``, stateless: no ``Mcp-Session-Id``) or over the legacy
HTTP+SSE transport. Protocol mistakes (malformed JSON-RPC, an unknown method or tool, bad
arguments, missing credentials) are JSON-RPC errors; a tool that fails answers a result with
``isError: true``, as MCP asks, so the model sees why.
"""

import json
from dataclasses import dataclass

from django.conf import settings

from hotapi.errors import LimitExceeded
from hotapi.version import __version__
from runs.models import RunStatus

from . import selectors
from .calls import call_function
from .webhooks import Refused, authenticate

# Messages of one JSON-RPC batch (answered one after the other, each tool call awaited).
MAX_BATCH = 16
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
LATEST_VERSION = HANDSHAKE_VERSIONS[-1]

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
# Server errors (the -32000 range): the caller's credential was missing or refused.
UNAUTHORIZED, FORBIDDEN = -32001, -32003
# Too many requests: the environment's rate limit, or its calls already waiting.
SERVER_BUSY = -32000


class RpcError(Exception):
    def __init__(self, code: int, message: str, data=None, *, http_status: int = 200):
        super().__init__(message)
        self.code, self.message, self.data, self.http_status = code, message, data, http_status

    def body(self, request_id) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"jsonrpc": "2.0", "id": request_id, "error": error}


@dataclass
class Endpoint:
    """One MCP service of one environment, and who is calling (the raw header)."""

    environment: object
    service: str
    authorization: str


def parse(raw: bytes):
    """The JSON-RPC message (or batch) of a request body; RpcError when it is not JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RpcError(PARSE_ERROR, "Parse error: the body is not valid JSON") from None


def _check_message(message) -> tuple[object, str, dict]:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, "Invalid Request: expected a JSON-RPC 2.0 object")
    method = message.get("method")
    if not isinstance(method, str):
        raise RpcError(INVALID_REQUEST, "Invalid Request: 'method' must be a string")
    request_id = message.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, str | int)
    ):
        raise RpcError(INVALID_REQUEST, "Invalid Request: 'id' must be a string or an integer")
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'params' must be an object")
    return request_id, method, params


def answer(endpoint: Endpoint, raw: bytes) -> tuple[dict | list | None, int]:
    """(the JSON-RPC answer or None, the HTTP status) for a POSTed message or batch; RpcError
    when the body is not JSON or the batch is empty or too large."""
    payload = parse(raw)
    if not isinstance(payload, list):
        return handle(endpoint, payload)
    if not payload or len(payload) > MAX_BATCH:
        raise RpcError(INVALID_REQUEST, f"Invalid Request: a batch holds 1 to {MAX_BATCH} messages")
    answers = [handle(endpoint, message)[0] for message in payload]
    answers = [body for body in answers if body is not None]
    return (answers or None), (200 if answers else 202)


def handle(endpoint: Endpoint, message) -> tuple[dict | None, int]:
    """(the JSON-RPC response or None for a notification, the HTTP status to answer with)."""
    request_id = message.get("id") if isinstance(message, dict) else None
    try:
        request_id, method, params = _check_message(message)
        is_notification = "id" not in message
        if is_notification:
            return None, 202  # notifications/initialized, cancelled…: nothing to answer
        result = _dispatch(endpoint, method, params)
        return {"jsonrpc": "2.0", "id": request_id, "result": result}, 200
    except RpcError as error:
        return error.body(request_id), error.http_status


def _dispatch(endpoint: Endpoint, method: str, params: dict) -> dict:
    if method == "initialize":
        return _initialize(endpoint, params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": [tool_json(tool) for tool in _tools(endpoint)]}
    if method == "tools/call":
        return _call(endpoint, params)
    raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")


def _tools(endpoint: Endpoint):
    return selectors.serving_tools(environment_id=endpoint.environment.id, service=endpoint.service)


def _initialize(endpoint: Endpoint, params: dict) -> dict:
    requested = params.get("protocolVersion")
    version = requested if requested in HANDSHAKE_VERSIONS else LATEST_VERSION
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": f"hot/{endpoint.service}", "version": __version__},
    }


def _object_schema(schema):
    """MCP wants object schemas; any other output schema is wrapped as ``{result: ...}``,
    like the structured content of such a tool."""
    if isinstance(schema, dict) and schema.get("type") == "object":
        return schema
    return {"type": "object", "properties": {"result": schema}, "required": ["result"]}


def tool_json(tool) -> dict:
    spec = {
        "name": tool.name,
        "inputSchema": tool.input_schema or {"type": "object", "properties": {}},
    }
    if tool.title:
        spec["title"] = tool.title
    if tool.description:
        spec["description"] = tool.description
    if tool.output_schema:
        spec["outputSchema"] = _object_schema(tool.output_schema)
    if tool.annotations:
        spec["annotations"] = tool.annotations
    if tool.icons:
        spec["icons"] = tool.icons
    return spec


def _arguments(tool, arguments) -> list:
    """The function's positional arguments from the named ones, in parameter order."""
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'arguments' must be an object")
    schema = tool.input_schema or {}
    names = list((schema.get("properties") or {}).keys())
    missing = [name for name in schema.get("required") or [] if name not in arguments]
    if missing:
        raise RpcError(
            INVALID_PARAMS,
            f"Invalid params: tool '{tool.name}' needs {', '.join(repr(m) for m in missing)}",
        )
    unknown = sorted(set(arguments) - set(names))
    if unknown:
        raise RpcError(
            INVALID_PARAMS,
            f"Invalid params: tool '{tool.name}' takes no {', '.join(repr(u) for u in unknown)}",
        )
    return [arguments.get(name) for name in names]


def _authorize(endpoint: Endpoint, tool) -> None:
    if tool.auth != "required":
        return
    try:
        authenticate(
            endpoint.authorization,
            endpoint.environment,
            [f"mcp:{endpoint.service}", f"mcp:{endpoint.service}/{tool.name}"],
        )
    except Refused as refused:
        code = UNAUTHORIZED if refused.status == 401 else FORBIDDEN
        raise RpcError(code, refused.message, http_status=refused.status) from None


def _call(endpoint: Endpoint, params: dict) -> dict:
    name = params.get("name")
    if not isinstance(name, str):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'name' must be the tool's name")
    tool = next((tool for tool in _tools(endpoint) if tool.name == name), None)
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
    _authorize(endpoint, tool)
    args = _arguments(tool, params.get("arguments"))
    try:
        outcome = call_function(
            environment=endpoint.environment,
            build=tool.build,
            function=f"{tool.ns}/{tool.var}",
            args=args,
            origin=f"mcp:{tool.service}/{tool.name}",
            timeout=settings.HOT_MCP_TIMEOUT_SECONDS,
        )
    except LimitExceeded as exc:
        raise RpcError(SERVER_BUSY, exc.message, http_status=429) from None
    run = outcome.run
    meta = {"hot.dev/run_id": str(run.id)}
    if outcome.timed_out:
        text = f"The tool did not finish within {settings.HOT_MCP_TIMEOUT_SECONDS:g} seconds"
        return {"content": [{"type": "text", "text": text}], "isError": True, "_meta": meta}
    if run.status != RunStatus.SUCCEEDED:
        text = f"The tool {run.status}: {run.error or 'no reason given'}"
        return {"content": [{"type": "text", "text": text}], "isError": True, "_meta": meta}
    return {**tool_result(run.result, tool), "_meta": meta}


def tool_result(result, tool) -> dict:
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    answer = {"content": [{"type": "text", "text": text}], "isError": False}
    if isinstance(result, dict) and (tool.output_schema or {}).get("type") == "object":
        answer["structuredContent"] = result
    elif tool.output_schema:
        answer["structuredContent"] = {"result": result}
    elif isinstance(result, dict):
        answer["structuredContent"] = result
    return answer
