"""A project exposing webhooks and MCP tools, as the tests deploy it."""

from tests import bundles

SOURCE = """\
::app::hooks ns

echo
meta {webhook: {service: "shop", path: "/orders"}}
fn (request: HttpRequest): HttpResponse {
  println(`order received: ${request.method}`)
  ::hot::http/HttpResponse({
    status: 201,
    headers: {"x-order": "accepted"},
    body: {method: request.method, got: request.body, query: request.query, url: request.url}
  })
}

status
meta {webhook: {service: "shop", path: "/", method: "GET"}}
fn (request) { {ok: true} }

internal-sync
meta {webhook: {service: "internal", path: "/sync", auth: "required"}}
fn (request) {
  token get(request.headers, "authorization")
  {caller: request.auth.type, has-authorization: not(is-null(token))}
}

broken
meta {webhook: {service: "shop", path: "/broken"}}
fn (request) { fail("kaput") }

slow
meta {webhook: {service: "shop", path: "/slow"}}
fn (request) { slow(request) }

respond
meta {webhook: {service: "shop", path: "/respond"}}
fn (request) {
  kind request.query.kind
  if(eq(kind, "empty"), {status: 204},
    if(eq(kind, "text"), "just text",
      ::hot::http/HttpResponse({
        status: 202,
        headers: {"content-length": "1", "x-kind": "framed"},
        body: [1, 2]
      })))
}

add-numbers
meta {mcp: {service: "calc", description: "Add two integers"}}
fn (a: Int, b: Int): Int { add(a, b) }

greet
meta {mcp: {service: "calc", auth: "none", title: "Greeting"}}
fn (name: Str, excited: Bool?): Str { if(excited, `Hello, ${name}!`, `Hello, ${name}`) }

explode
meta {mcp: {service: "calc"}}
fn (): Str { fail("tool exploded") }
"""

WEBHOOKS = [
    {"fn": "::app::hooks/echo", "service": "shop", "path": "/orders"},
    {"fn": "::app::hooks/status", "service": "shop", "path": "/", "method": "GET"},
    {
        "fn": "::app::hooks/internal-sync",
        "service": "internal",
        "path": "/sync",
        "auth": "required",
    },
    {"fn": "::app::hooks/broken", "service": "shop", "path": "/broken"},
    {"fn": "::app::hooks/slow", "service": "shop", "path": "/slow"},
    {"fn": "::app::hooks/respond", "service": "shop", "path": "/respond"},
]
TOOLS = [
    {"fn": "::app::hooks/add-numbers", "service": "calc", "description": "Add two integers"},
    {"fn": "::app::hooks/greet", "service": "calc", "auth": "none", "title": "Greeting"},
    {"fn": "::app::hooks/explode", "service": "calc"},
]


def ingress_bundle(**extra) -> tuple[bytes, str]:
    return bundles.make_bundle(
        {bundles.DEFAULT_SOURCE_PATH: SOURCE},
        handlers=(),
        schedules=(),
        webhooks=bundles.webhook_entries(WEBHOOKS, SOURCE),
        mcp_tools=bundles.mcp_tool_entries(TOOLS, SOURCE),
        **extra,
    )
