"""The public ingress routes: ``/webhook/...`` and ``/mcp/...`` (plain Django views: they
answer in the caller's terms, not the ``/v1`` API's, and check credentials per endpoint)."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from hotapi.api.exceptions import api_error, json_error_response
from hotapi.errors import DomainError

from . import selectors
from .webhooks import (
    NO_BODY_STATUSES,
    Refused,
    answer,
    authenticate,
    check_rate,
    find_webhook,
    invoke,
    split_target,
)


def refusal_response(request, refused: Refused) -> JsonResponse:
    response = json_error_response(
        request, refused.status, refused.code, refused.message, **refused.extra
    )
    for name, value in refused.headers.items():
        response[name] = value
    return response


def domain_error_response(request, exc: DomainError) -> JsonResponse:
    error = api_error(exc)
    extra = {"details": error.details} if error.details else {}
    return json_error_response(request, error.status_code, error.error_code, exc.message, **extra)


def _webhook_target(request, rest: str):
    """The custom-domain form on a verified domain, else ``{org}/{env}/...``."""
    environment = selectors.environment_by_domain(host=request.get_host())
    if environment is not None:
        return split_target(environment, rest)
    organization, _, rest = rest.partition("/")
    environment_name, _, rest = rest.partition("/")
    if not organization or not environment_name:
        raise Refused(404, "not_found", selectors.NOT_FOUND)
    environment = selectors.environment_by_names(
        organization=organization, environment=environment_name
    )
    return split_target(environment, rest)


def _webhook_response(run_outcome) -> HttpResponse:
    run = run_outcome.run
    if run_outcome.timed_out:
        raise Refused(
            504,
            "webhook_timeout",
            "The webhook function did not finish in time; its run was cancelled",
            {"run_id": str(run.id)},
        )
    if run.status != "succeeded":
        raise Refused(
            500,
            "webhook_function_failed",
            f"The webhook function {run.status}: {run.error or 'no reason given'}",
            {"run_id": str(run.id)},
        )
    result = answer(run.result)
    if result.status in NO_BODY_STATUSES:
        response = HttpResponse(status=result.status)
    else:
        response = JsonResponse(result.body, status=result.status, safe=False)
    for name, value in result.headers.items():
        try:
            response[name] = value
        except ValueError:  # a header value Django refuses (newlines): left out
            continue
    response["X-Hot-Run-Id"] = str(run.id)
    return response


@csrf_exempt
def webhook(request, rest: str):
    try:
        target = _webhook_target(request, rest)
        check_rate(target.environment)
        hook = find_webhook(target, request.method)
        credential = None
        if hook.auth == "required":
            credential = authenticate(
                request.headers.get("Authorization", ""),
                target.environment,
                [f"webhook:{hook.service}", f"webhook:{hook.service}/{hook.path}"],
            )
        outcome = invoke(hook, request, environment=target.environment, credential=credential)
        return _webhook_response(outcome)
    except Refused as refused:
        return refusal_response(request, refused)
    except DomainError as exc:
        return domain_error_response(request, exc)
