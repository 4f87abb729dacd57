"""Reads for the public ingress: which environment a URL names, and which deployed webhook
or MCP tool serves it."""

from django.db.models import QuerySet

from builds.models import McpTool, Webhook
from builds.selectors import serving_builds
from domains.models import Domain
from environments.models import Environment
from hotapi.errors import NotFound

NOT_FOUND = "Webhook endpoint not found"


def environment_by_names(*, organization: str, environment: str) -> Environment:
    found = (
        Environment.objects.filter(name=environment, organization__name=organization, active=True)
        .select_related("organization")
        .first()
    )
    if found is None:
        raise NotFound(f"No environment {environment!r} in organization {organization!r}")
    return found


def environment_by_domain(*, host: str) -> Environment | None:
    """The environment a verified custom domain belongs to (None for any other host)."""
    name = host.rsplit(":", 1)[0].rstrip(".").lower() if not host.startswith("[") else ""
    if not name:
        return None
    domain = (
        Domain.objects.filter(domain=name, verified_at__isnull=False, environment__active=True)
        .select_related("environment__organization")
        .first()
    )
    return domain.environment if domain else None


def serving_webhooks(*, environment_id, service: str, path: str) -> QuerySet[Webhook]:
    """The webhooks of serving builds at ``service``/``path`` (one per method), in a stable
    order: should two projects declare the same endpoint, the first by project name serves."""
    return (
        Webhook.objects.filter(
            build__in=serving_builds(environment_id=environment_id), service=service, path=path
        )
        .select_related("build")
        .order_by("build__project__name", "id")
    )


def serving_tools(*, environment_id, service: str) -> list[McpTool]:
    """The tools of ``service`` in serving builds; a name declared twice serves once."""
    tools = (
        McpTool.objects.filter(
            build__in=serving_builds(environment_id=environment_id), service=service
        )
        .select_related("build")
        .order_by("build__project__name", "name", "id")
    )
    unique: dict[str, McpTool] = {}
    for tool in tools:
        unique.setdefault(tool.name, tool)
    return sorted(unique.values(), key=lambda tool: tool.name)


def project_webhooks(*, project) -> QuerySet[Webhook]:
    """The webhooks of the project's deployed build (none while nothing is deployed)."""
    return Webhook.objects.filter(build__project=project, build__deployed=True).order_by(
        "service", "path", "method", "id"
    )


def project_mcp_tools(*, project) -> QuerySet[McpTool]:
    """The MCP tools of the project's deployed build (none while nothing is deployed)."""
    return McpTool.objects.filter(build__project=project, build__deployed=True).order_by(
        "service", "name", "id"
    )
